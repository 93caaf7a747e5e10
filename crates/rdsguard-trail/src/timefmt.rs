//! Event times: a fast path for CloudTrail's `YYYY-MM-DDTHH:MM:SSZ`, RFC 3339 otherwise.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time with nanosecond precision, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    pub unix: i64,
    pub nanos: u32,
}

impl Instant {
    pub fn from_datetime(dt: OffsetDateTime) -> Instant {
        Instant {
            unix: dt.unix_timestamp(),
            nanos: dt.nanosecond(),
        }
    }

    /// RFC 3339 in UTC, seconds precision unless there are nanoseconds.
    pub fn rfc3339(self) -> String {
        match OffsetDateTime::from_unix_timestamp(self.unix) {
            Ok(dt) => {
                let (y, mo, d) = (dt.year(), dt.month() as u8, dt.day());
                let (h, mi, s) = (dt.hour(), dt.minute(), dt.second());
                if self.nanos == 0 {
                    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
                } else {
                    format!(
                        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:09}Z",
                        self.nanos
                    )
                }
            }
            Err(_) => format!("@{}", self.unix),
        }
    }

    /// The start of the hour, as `YYYY-MM-DDTHH:00Z`.
    pub fn hour_key(self) -> String {
        let hour = self.unix.div_euclid(3600) * 3600;
        let s = Instant {
            unix: hour,
            nanos: 0,
        }
        .rfc3339();
        // "YYYY-MM-DDTHH:00:00Z" -> "YYYY-MM-DDTHH:00Z"
        match s.len() {
            20 => format!("{}Z", &s[..16]),
            _ => s,
        }
    }
}

/// Parses an event time. Accepts RFC 3339 and, leniently, `YYYY-MM-DD HH:MM:SS[.fff]` taken
/// as UTC (written by some log pipelines).
pub fn parse_event_time(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    if b.len() == 20
        && b[10] == b'T'
        && b[19] == b'Z'
        && let Some(t) = fast_utc(b)
    {
        return Some(t);
    }
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(Instant::from_datetime(dt));
    }
    // Space-separated, no zone: treat as UTC.
    if b.len() >= 19 && b[10] == b' ' {
        let mut fixed = String::with_capacity(s.len() + 1);
        fixed.push_str(&s[..10]);
        fixed.push('T');
        fixed.push_str(&s[11..]);
        fixed.push('Z');
        if let Ok(dt) = OffsetDateTime::parse(&fixed, &Rfc3339) {
            return Some(Instant::from_datetime(dt));
        }
    }
    None
}

fn digits(b: &[u8]) -> Option<i64> {
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// `YYYY-MM-DDTHH:MM:SSZ` without allocation.
fn fast_utc(b: &[u8]) -> Option<Instant> {
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(Instant {
        unix: days * 86_400 + hour * 3600 + minute * 60 + second.min(59),
        nanos: 0,
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_rfc3339_parser() {
        for s in [
            "2023-07-10T11:42:00Z",
            "2000-02-29T23:59:59Z",
            "1970-01-01T00:00:00Z",
            "2024-12-31T00:00:01Z",
        ] {
            let fast = fast_utc(s.as_bytes()).unwrap();
            let slow = Instant::from_datetime(OffsetDateTime::parse(s, &Rfc3339).unwrap());
            assert_eq!(fast, slow, "{s}");
            assert_eq!(fast.rfc3339(), s);
        }
    }

    #[test]
    fn other_forms() {
        let t = parse_event_time("2023-07-10T13:42:00.5+02:00").unwrap();
        assert_eq!(t.rfc3339(), "2023-07-10T11:42:00.500000000Z");
        let t = parse_event_time("2022-12-11 19:42:55").unwrap();
        assert_eq!(t.rfc3339(), "2022-12-11T19:42:55Z");
        let t = parse_event_time("2025-01-20 16:52:14.000000000").unwrap();
        assert_eq!(t.rfc3339(), "2025-01-20T16:52:14Z");
        assert_eq!(t.hour_key(), "2025-01-20T16:00Z");
        assert!(parse_event_time("redacted").is_none());
        assert!(parse_event_time("2023-02-30T00:00:00Z").is_none());
        assert!(parse_event_time("").is_none());
    }
}
