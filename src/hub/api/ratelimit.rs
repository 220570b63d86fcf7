//! The Hub's rate limit, read from every answer: `RateLimit: "api";r=<left>;t=<seconds>`
//! (draft-ietf-httpapi-ratelimit-headers). When the window is spent, or the Hub answers
//! 429, no call is made until it has passed: messages go out without what the calls
//! would have added, and the Hub sees no storm of retries.

use reqwest::header::HeaderMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The wait after a 429 that names none.
const DEFAULT_PAUSE: Duration = Duration::from_secs(60);
/// The longest pause a header can ask for: a window is 5 minutes.
const MAX_PAUSE: Duration = Duration::from_secs(600);

/// `(remaining, seconds to reset)` of the `api` quota (or of the first one named).
pub fn parse(value: &str) -> Option<(u64, u64)> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    let item = items
        .iter()
        .find(|i| i.starts_with("\"api\""))
        .or(items.first())?;
    let param = |name: &str| {
        item.split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim() == name)
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
    };
    Some((param("r")?, param("t")?))
}

/// How long to wait before the next call, after an answer with these headers.
pub fn pause_after(status: u16, headers: &HeaderMap) -> Option<Duration> {
    let limit = headers
        .get("ratelimit")
        .and_then(|v| v.to_str().ok())
        .and_then(parse);
    let pause = match (status, limit) {
        (_, Some((0, t))) => Duration::from_secs(t.saturating_add(1)),
        (429, Some((_, t))) => Duration::from_secs(t.saturating_add(1)),
        (429, None) => headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_PAUSE, Duration::from_secs),
        _ => return None,
    };
    Some(pause.min(MAX_PAUSE))
}

/// Until when calls wait, shared by every call.
#[derive(Default)]
pub struct Pause(Mutex<Option<Instant>>);

impl Pause {
    /// How long calls must still wait, if they must.
    pub fn left(&self) -> Option<Duration> {
        let until = (*self.0.lock().expect("not poisoned"))?;
        until.checked_duration_since(Instant::now())
    }

    pub fn hold(&self, pause: Duration) {
        let until = Instant::now() + pause;
        let mut held = self.0.lock().expect("not poisoned");
        if held.is_none_or(|h| h < until) {
            *held = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_hubs_headers_are_read() {
        let real: serde_json::Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/hf-api/ratelimit-headers-real-examples.json"
        ))
        .unwrap();
        let on_429 = real["on_429"]["RateLimit"].as_str().unwrap();
        assert_eq!(parse(on_429), Some((0, 55)));
        let on_200 = &real["on_200_GET_api_models_moonshotai_Kimi-K2-Thinking"]["RateLimit"];
        assert_eq!(parse(on_200.as_str().unwrap()), Some((489, 189)));
        assert_eq!(parse("\"pages\";r=5;t=9, \"api\";r=1;t=2"), Some((1, 2)));
        assert_eq!(parse("garbage"), None);
    }

    #[test]
    fn a_spent_window_or_a_429_pauses_and_a_normal_answer_does_not() {
        let ok = headers(&[("ratelimit", "\"api\";r=489;t=189")]);
        assert_eq!(pause_after(200, &ok), None);
        let spent = headers(&[("ratelimit", "\"api\";r=0;t=55")]);
        assert_eq!(pause_after(200, &spent), Some(Duration::from_secs(56)));
        assert_eq!(pause_after(429, &spent), Some(Duration::from_secs(56)));
        let retry = headers(&[("retry-after", "7")]);
        assert_eq!(pause_after(429, &retry), Some(Duration::from_secs(7)));
        assert_eq!(pause_after(429, &HeaderMap::new()), Some(DEFAULT_PAUSE));
        let huge = headers(&[("ratelimit", "\"api\";r=0;t=99999999")]);
        assert_eq!(pause_after(200, &huge), Some(MAX_PAUSE));
    }
}
