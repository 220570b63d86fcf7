//! When a subscription's messages go out: at once, or gathered into a digest that goes
//! out daily or weekly at a time of day in an IANA time zone.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Instant,
    Daily {
        hour: i8,
        minute: i8,
    },
    Weekly {
        day: Weekday,
        hour: i8,
        minute: i8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub mode: Mode,
    /// An IANA name (`Europe/Paris`), or `UTC`.
    pub tz: String,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            mode: Mode::Instant,
            tz: "UTC".into(),
        }
    }
}

const DAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

const HOW: &str =
    "a mode is instant, \"daily HH:MM\" or \"weekly DAY HH:MM\" (weekly monday 09:00)";

impl Schedule {
    /// Reads `mode` (`instant`, `daily 09:00`, `weekly mon 09:00`) and `tz` (default UTC);
    /// the error says what would be right.
    pub fn parse(mode: &str, tz: Option<&str>) -> Result<Schedule, String> {
        let tz = tz.map(str::trim).filter(|t| !t.is_empty()).unwrap_or("UTC");
        let zone = TimeZone::get(tz).map_err(|_| {
            format!("unknown time zone \"{tz}\": use an IANA name such as Europe/Paris, America/New_York or UTC")
        })?;
        let tz = zone.iana_name().unwrap_or(tz).to_string();
        let words: Vec<String> = mode.split_whitespace().map(str::to_lowercase).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let mode = match words.as_slice() {
            [] | ["instant"] => Mode::Instant,
            ["daily", at] => {
                let (hour, minute) = time_of_day(at)?;
                Mode::Daily { hour, minute }
            }
            ["weekly", day, at] => {
                let day = weekday(day)?;
                let (hour, minute) = time_of_day(at)?;
                Mode::Weekly { day, hour, minute }
            }
            _ => return Err(format!("\"{mode}\": {HOW}")),
        };
        Ok(Schedule { mode, tz })
    }

    pub fn is_digest(&self) -> bool {
        self.mode != Mode::Instant
    }

    /// The first time after `now_ms` (unix ms) a digest of this schedule goes out; `None`
    /// for instant. A time a clock change skips is taken as the zone says it (later).
    pub fn next_due(&self, now_ms: i64) -> Option<i64> {
        let (day, hour, minute) = match self.mode {
            Mode::Instant => return None,
            Mode::Daily { hour, minute } => (None, hour, minute),
            Mode::Weekly { day, hour, minute } => (Some(day), hour, minute),
        };
        let tz = TimeZone::get(&self.tz).unwrap_or(TimeZone::UTC);
        let now = Timestamp::from_millisecond(now_ms).ok()?;
        let mut date = now.to_zoned_datetime(tz.clone()).date();
        let at = Time::new(hour, minute, 0, 0).ok()?;
        // At most a week and a day ahead.
        for _ in 0..9 {
            if day.is_none_or(|d| date.weekday() == d) {
                let due = date.to_datetime(at).to_zoned_datetime(tz.clone()).ok()?;
                let ms = due.timestamp().as_millisecond();
                if ms > now_ms {
                    return Some(ms);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// A time (unix ms) as read in the schedule's zone: `Fri 4 Dec 2026 09:00 Europe/Paris`.
    pub fn local(&self, ms: i64) -> String {
        let tz = TimeZone::get(&self.tz).unwrap_or(TimeZone::UTC);
        match Timestamp::from_millisecond(ms) {
            Ok(t) => format!(
                "{} {}",
                t.to_zoned_datetime(tz).strftime("%a %-d %b %Y %H:%M"),
                self.tz
            ),
            Err(_) => ms.to_string(),
        }
    }

    /// The mode as stored and typed: `instant`, `daily 09:00`, `weekly monday 09:00`.
    pub fn mode_text(&self) -> String {
        match self.mode {
            Mode::Instant => "instant".into(),
            Mode::Daily { hour, minute } => format!("daily {hour:02}:{minute:02}"),
            Mode::Weekly { day, hour, minute } => {
                let name = DAYS.iter().find(|(_, d)| *d == day).map_or("", |(n, _)| n);
                format!("weekly {name} {hour:02}:{minute:02}")
            }
        }
    }
}

impl fmt::Display for Schedule {
    /// `instant`, or `daily 09:00 Europe/Paris`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mode {
            Mode::Instant => f.write_str("instant"),
            _ => write!(f, "{} {}", self.mode_text(), self.tz),
        }
    }
}

fn time_of_day(s: &str) -> Result<(i8, i8), String> {
    let bad = || format!("\"{s}\" is not a time of day: use HH:MM, 24-hour (09:00, 17:30)");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let hour: i8 = h.parse().map_err(|_| bad())?;
    let minute: i8 = m.parse().map_err(|_| bad())?;
    match (0..24).contains(&hour) && (0..60).contains(&minute) && m.len() == 2 {
        true => Ok((hour, minute)),
        false => Err(bad()),
    }
}

fn weekday(s: &str) -> Result<Weekday, String> {
    DAYS.iter()
        .find(|(name, _)| s.len() >= 3 && name.starts_with(s))
        .map(|(_, d)| *d)
        .ok_or_else(|| format!("\"{s}\" is not a day: use monday … sunday (or mon … sun)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn modes_read_and_print_one_way() {
        let s = Schedule::parse("Daily 9:05", Some("Europe/Paris")).unwrap();
        assert_eq!(s.mode_text(), "daily 09:05");
        assert_eq!(s.to_string(), "daily 09:05 Europe/Paris");
        let w = Schedule::parse("weekly Mon 17:30", None).unwrap();
        assert_eq!(w.to_string(), "weekly monday 17:30 UTC");
        assert_eq!(Schedule::parse(&w.mode_text(), Some(&w.tz)).unwrap(), w);
        assert!(!Schedule::parse("instant", None).unwrap().is_digest());
        assert!(Schedule::parse("daily 25:00", None)
            .unwrap_err()
            .contains("HH:MM"));
        assert!(Schedule::parse("hourly", None)
            .unwrap_err()
            .contains("weekly DAY"));
        assert!(Schedule::parse("weekly someday 09:00", None)
            .unwrap_err()
            .contains("monday"));
        assert!(Schedule::parse("daily 09:00", Some("Mars/Olympus"))
            .unwrap_err()
            .contains("IANA"));
    }

    #[test]
    fn the_next_digest_is_at_the_local_time_of_its_zone() {
        let paris = Schedule::parse("daily 09:00", Some("Europe/Paris")).unwrap();
        // 08:00 UTC in winter is 09:00 in Paris: that digest has just gone; the next is
        // tomorrow's.
        assert_eq!(
            paris.next_due(ms("2026-12-03T07:59:00Z")),
            Some(ms("2026-12-03T08:00:00Z"))
        );
        assert_eq!(
            paris.next_due(ms("2026-12-03T08:00:00Z")),
            Some(ms("2026-12-04T08:00:00Z"))
        );
        // In summer Paris is UTC+2.
        assert_eq!(
            paris.next_due(ms("2026-07-01T12:00:00Z")),
            Some(ms("2026-07-02T07:00:00Z"))
        );
        // The night the clocks go forward, 02:30 does not exist: it is 03:30.
        let night = Schedule::parse("daily 02:30", Some("Europe/Paris")).unwrap();
        assert_eq!(
            night.next_due(ms("2026-03-28T12:00:00Z")),
            Some(ms("2026-03-29T01:30:00Z"))
        );
        let weekly = Schedule::parse("weekly monday 09:00", Some("America/New_York")).unwrap();
        // Thursday 3 December 2026 → Monday 7 December, 09:00 EST = 14:00 UTC.
        assert_eq!(
            weekly.next_due(ms("2026-12-03T12:00:00Z")),
            Some(ms("2026-12-07T14:00:00Z"))
        );
        assert_eq!(Schedule::default().next_due(0), None);
    }
}
