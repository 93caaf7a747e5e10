//! Small conversions from SDK shapes to the model's.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

/// An SDK timestamp as RFC 3339.
pub(crate) fn ts(t: Option<&DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(Format::DateTime).ok())
}

/// A port number; out-of-range or non-positive values (0 = "not set") become `None`.
pub(crate) fn port(p: Option<i32>) -> Option<u16> {
    p.and_then(|p| u16::try_from(p).ok()).filter(|p| *p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_outside_u16_or_zero_are_unknown() {
        assert_eq!(port(Some(5432)), Some(5432));
        assert_eq!(port(Some(0)), None);
        assert_eq!(port(Some(-1)), None);
        assert_eq!(port(Some(70000)), None);
        assert_eq!(port(None), None);
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let t = DateTime::from_secs(1_700_000_000);
        assert_eq!(ts(Some(&t)).as_deref(), Some("2023-11-14T22:13:20Z"));
    }
}
