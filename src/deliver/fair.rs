//! Discord's global limit (requests a bot may make per second, whatever the route), shared
//! in turns: when requests wait, each owner (a workspace, or the operator) gets the next
//! free slot in its turn, so one owner's volume, however many channels it follows, cannot
//! starve another's.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

#[derive(Default)]
pub struct FairLimit {
    per_second: usize,
    state: Mutex<Turns>,
}

/// A waiter's answer: a slot, or how long the global pause lasts.
type Turn = oneshot::Sender<Result<(), Duration>>;

#[derive(Default)]
struct Turns {
    /// Slots given in the last second.
    recent: VecDeque<Instant>,
    paused_until: Option<Instant>,
    /// Owners with requests waiting, in turn order, each with its waiters in order: each
    /// gets a slot, or how long a global pause still lasts.
    queue: VecDeque<(String, VecDeque<Turn>)>,
    /// Whether a task is giving out slots to the queue.
    granting: bool,
}

impl Turns {
    fn paused_for(&self, now: Instant) -> Option<Duration> {
        self.paused_until.filter(|t| *t > now).map(|t| t - now)
    }

    /// How long until a slot of the second is free; `None`: now. (A global pause is
    /// answered before, by [`Turns::paused_for`]: nobody waits it out.)
    fn wait(&mut self, now: Instant, per_second: usize) -> Option<Duration> {
        let second = Duration::from_secs(1);
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= second)
        {
            self.recent.pop_front();
        }
        match self.recent.front() {
            Some(oldest) if self.recent.len() >= per_second => {
                Some(second - now.duration_since(*oldest))
            }
            _ => None,
        }
    }
}

impl FairLimit {
    pub fn new(per_second: usize) -> Arc<FairLimit> {
        Arc::new(FairLimit {
            per_second,
            state: Mutex::default(),
        })
    }

    /// Waits for a slot for `owner`; during a global pause, answers at once how long it
    /// still lasts (nobody waits out a pause holding a send: the delivery is rescheduled).
    pub async fn acquire(self: &Arc<Self>, owner: &str) -> Result<(), Duration> {
        let turn = {
            let mut t = self.state.lock().expect("not poisoned");
            let now = Instant::now();
            if let Some(left) = t.paused_for(now) {
                return Err(left);
            }
            if t.queue.is_empty() && t.wait(now, self.per_second).is_none() {
                t.recent.push_back(now);
                return Ok(());
            }
            let (tx, rx) = oneshot::channel();
            match t.queue.iter_mut().find(|(o, _)| o == owner) {
                Some((_, waiters)) => waiters.push_back(tx),
                None => t.queue.push_back((owner.to_string(), VecDeque::from([tx]))),
            }
            if !t.granting {
                t.granting = true;
                tokio::spawn(self.clone().grant());
            }
            rx
        };
        turn.await.unwrap_or(Ok(()))
    }

    /// How long the global pause still lasts, if one does.
    pub fn paused_for(&self) -> Option<Duration> {
        self.state
            .lock()
            .expect("not poisoned")
            .paused_for(Instant::now())
    }

    /// No request for `d` (Discord answered a global 429).
    pub fn pause(&self, d: Duration) {
        self.state.lock().expect("not poisoned").paused_until = Some(Instant::now() + d);
    }

    /// Gives each free slot to the owner whose turn it is, until nobody waits.
    async fn grant(self: Arc<Self>) {
        loop {
            let wait = {
                let mut t = self.state.lock().expect("not poisoned");
                let now = Instant::now();
                if let Some(left) = t.paused_for(now) {
                    // Everyone waiting is told at once how long the pause lasts.
                    for (_, waiters) in t.queue.drain(..) {
                        for tx in waiters {
                            let _ = tx.send(Err(left));
                        }
                    }
                    t.granting = false;
                    return;
                }
                match t.wait(now, self.per_second) {
                    Some(wait) => wait,
                    None => {
                        let Some((owner, mut waiters)) = t.queue.pop_front() else {
                            t.granting = false;
                            return;
                        };
                        // A waiter that gave up (its send was cancelled) takes no slot.
                        while let Some(tx) = waiters.pop_front() {
                            if tx.send(Ok(())).is_ok() {
                                t.recent.push_back(now);
                                break;
                            }
                        }
                        if !waiters.is_empty() {
                            t.queue.push_back((owner, waiters));
                        }
                        continue;
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_busy_owner_and_a_quiet_one_take_turns() {
        let limit = FairLimit::new(10);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // 30 requests of a busy owner queue first; then one of a quiet owner.
        for i in 0..31 {
            let (limit, order) = (limit.clone(), order.clone());
            let owner = if i == 30 { "quiet" } else { "busy" };
            tasks.push(tokio::spawn(async move {
                limit.acquire(owner).await.unwrap();
                order.lock().unwrap().push(owner);
            }));
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap();
        let quiet = order.iter().position(|o| *o == "quiet").unwrap();
        // The first 10 went at once; the quiet one is served right after the next busy one.
        assert!(quiet <= 12, "served {quiet}th of 31: {order:?}");
    }
}
