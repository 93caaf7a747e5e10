//! Small text helpers shared by the serializers: escaping, truncation within API limits,
//! stable hashes and natural ordering of control ids.

use std::cmp::Ordering;

use rdsguard_findings::Finding;

/// Escape text for HTML element content and attribute values (both quote kinds).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escape text for XML content and attributes, dropping characters XML 1.0 cannot carry
/// (control characters other than tab, newline and carriage return).
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            _ => out.push(c),
        }
    }
    out
}

/// At most `max` bytes of `s`, cut at a character boundary, ending with `…` when cut.
pub fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    const ELLIPSIS: &str = "…";
    let mut end = max.saturating_sub(ELLIPSIS.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &s[..end])
}

/// 64-bit FNV-1a: a stable hash (unlike `DefaultHasher`) for ids and fingerprints.
pub fn fnv1a64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The identity of a finding across runs: check, account, region and resource (ARN when
/// known, the id otherwise). Used for drift, SARIF fingerprints and ASFF/OCSF ids.
pub fn finding_key(f: &Finding) -> String {
    format!(
        "{}|{}|{}|{}",
        f.check_id,
        f.resource.account_id,
        f.resource.region.as_deref().unwrap_or("global"),
        f.resource.arn.as_deref().unwrap_or(&f.resource.id)
    )
}

/// The AWS partition of a resource, from its ARN, else from its region name.
pub fn partition_of(arn: Option<&str>, region: Option<&str>) -> &'static str {
    if let Some(p) = arn.and_then(|a| a.split(':').nth(1)) {
        return match p {
            "aws-cn" => "aws-cn",
            "aws-us-gov" => "aws-us-gov",
            _ => "aws",
        };
    }
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// Compare strings so that embedded numbers sort numerically: `RDS.3 < RDS.10`,
/// `2.2.1 < 2.10`, `v3.0.0 < v5.0.0`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (dx, dy) = (trim_zeros(&x[..nx]), trim_zeros(&y[..ny]));
                let ord = dx.len().cmp(&dy.len()).then_with(|| dx.cmp(dy));
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|c| **c == b'0').count();
    &d[n.min(d.len().saturating_sub(1))..]
}

/// A JSON value as one line of text for tables and CSV cells (strings without quotes).
pub fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_neutralises_markup() {
        assert_eq!(
            escape_html(r#"<script>alert('x')</script>&"#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
    }

    #[test]
    fn xml_escaping_drops_invalid_control_characters() {
        assert_eq!(escape_xml("a\u{1}b<\"c\"\n"), "ab&lt;&quot;c&quot;\n");
    }

    #[test]
    fn truncation_respects_char_boundaries_and_limit() {
        let s = "é".repeat(10); // 20 bytes
        let t = truncate_bytes(&s, 9);
        assert!(t.len() <= 9, "{t}");
        assert!(t.ends_with('…'));
        assert_eq!(truncate_bytes("short", 9), "short");
    }

    #[test]
    fn natural_order_of_control_ids() {
        let mut v = vec![
            "RDS.10", "RDS.3", "RDS.27", "KMS.4", "2.10", "2.2.1", "v5.0.0", "v10.0.0",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            vec![
                "2.2.1", "2.10", "KMS.4", "RDS.3", "RDS.10", "RDS.27", "v5.0.0", "v10.0.0"
            ]
        );
    }

    #[test]
    fn partitions() {
        assert_eq!(
            partition_of(Some("arn:aws-cn:rds:cn-north-1:1:db:x"), None),
            "aws-cn"
        );
        assert_eq!(partition_of(None, Some("us-gov-west-1")), "aws-us-gov");
        assert_eq!(partition_of(None, None), "aws");
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a64(""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64("a"), 0xaf63dc4c8601ec8c);
    }
}
