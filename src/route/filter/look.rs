//! What a filter is evaluated with: who the bots are, whether the facts are all in, and a
//! budget of work, so that no text a tenant sends can make one evaluation slow.

use std::cell::Cell;

/// The Hub's own bot accounts (PRODUCT.md), lowercase; `author:bot` matches them.
pub const KNOWN_BOTS: [&str; 3] = ["parquet-converter", "sfconvertbot", "librarian-bot"];

/// Characters one look may compare (globs, title words), at most: for all the
/// subscriptions an event is routed to as it arrives, or for one delivery's second look.
/// An ordinary filter against a push's 70 listed paths takes a few tens of thousands; past
/// this, what is left is Unknown (routed, and looked at again with a budget of its own).
pub const WORK_MAX: u32 = 200_000;

/// Who `author:bot` means: the known bots and those the operator adds (`hub.bots`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bots(Vec<String>);

impl Bots {
    pub fn new(extra: &[String]) -> Bots {
        let mut names: Vec<String> = KNOWN_BOTS.iter().map(|b| b.to_string()).collect();
        names.extend(extra.iter().map(|b| b.trim().to_lowercase()));
        names.sort();
        names.dedup();
        Bots(names)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|b| b.eq_ignore_ascii_case(name))
    }
}

impl Default for Bots {
    fn default() -> Self {
        Bots::new(&[])
    }
}

/// When filters look at an event, and the work they may do: one look serves every
/// filter evaluated for that event at that moment.
pub struct Look<'a> {
    pub bots: &'a Bots,
    /// The event is as its message tells it (the Hub API asked, the discussion's history
    /// looked for): what an update did is decided as the message says it. When false (the
    /// event just arrived), such terms are Unknown and looked at again before sending.
    pub settled: bool,
    pub(super) work: Work,
}

impl<'a> Look<'a> {
    pub fn arrival(bots: &'a Bots) -> Look<'a> {
        Look {
            bots,
            settled: false,
            work: Work::new(),
        }
    }

    pub fn settled(bots: &'a Bots) -> Look<'a> {
        Look {
            bots,
            settled: true,
            work: Work::new(),
        }
    }

    /// The same look with all its work left (one term's own, for a note).
    pub(super) fn fresh(&self) -> Look<'a> {
        Look {
            bots: self.bots,
            settled: self.settled,
            work: Work::new(),
        }
    }

    /// Whether this look has run out of work (what is left is Unknown).
    pub fn spent(&self) -> bool {
        self.work.0.get() == 0
    }
}

/// The work left to a look.
pub(super) struct Work(Cell<u32>);

impl Work {
    pub fn new() -> Work {
        Work(Cell::new(WORK_MAX))
    }

    /// Takes `n` units; false (and nothing taken) when they are not left.
    pub fn take(&self, n: usize) -> bool {
        let left = self.0.get();
        match u32::try_from(n) {
            Ok(n) if n <= left => {
                self.0.set(left - n);
                true
            }
            _ => {
                self.0.set(0);
                false
            }
        }
    }

    #[cfg(test)]
    pub fn left(&self) -> u32 {
        self.0.get()
    }
}
