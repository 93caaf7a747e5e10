//! Security-group detections: ingress opened to the whole internet on database ports.
//!
//! `AuthorizeSecurityGroupIngress` is recorded in two request shapes: the current one with
//! `ipPermissions.items[].ipRanges.items[].cidrIp` (and `ipv6Ranges...cidrIpv6`), and the
//! legacy flat one with `cidrIp`, `ipProtocol`, `fromPort`, `toPort` at the top of
//! `requestParameters`. `ModifySecurityGroupRules` nests its rules under
//! `ModifySecurityGroupRulesRequest.SecurityGroupRule[.SecurityGroupRule]`. A range is "the
//! internet" when its prefix length is 0, whatever the address bits (anonymised logs contain
//! ranges like `208.236.235.254/0`).

use serde_json::Value;

use super::{Det, DetectConfig, Hit};
use crate::event::{EventView, as_i64, as_text};

/// One permission: protocol, port range, source range.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Permission {
    protocol: String,
    from: Option<i64>,
    to: Option<i64>,
    cidr: String,
}

/// True for `x.x.x.x/0` and `x::/0`.
fn is_world(cidr: &str) -> bool {
    cidr.rsplit_once('/')
        .is_some_and(|(_, len)| len.trim().parse::<u8>() == Ok(0))
}

/// Items of a CloudTrail list, which is either `{"items": [...]}` or a plain array.
fn items(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(o)) => match o.get("items") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn permissions_from_request(req: &Value) -> Vec<Permission> {
    let mut out = Vec::new();
    // Legacy flat shape.
    if let Some(cidr) = as_text(req.get("cidrIp")).or_else(|| as_text(req.get("cidrIpv6"))) {
        out.push(Permission {
            protocol: as_text(req.get("ipProtocol")).unwrap_or_else(|| "-1".into()),
            from: as_i64(req.get("fromPort")),
            to: as_i64(req.get("toPort")),
            cidr,
        });
    }
    for perm in items(req.get("ipPermissions")) {
        let protocol = as_text(perm.get("ipProtocol")).unwrap_or_else(|| "-1".into());
        let from = as_i64(perm.get("fromPort"));
        let to = as_i64(perm.get("toPort"));
        let ranges = items(perm.get("ipRanges"))
            .into_iter()
            .filter_map(|r| as_text(r.get("cidrIp")))
            .chain(
                items(perm.get("ipv6Ranges"))
                    .into_iter()
                    .filter_map(|r| as_text(r.get("cidrIpv6"))),
            );
        for cidr in ranges {
            out.push(Permission {
                protocol: protocol.clone(),
                from,
                to,
                cidr,
            });
        }
    }
    out
}

fn permissions_from_response(resp: &Value) -> Vec<Permission> {
    items(resp.get("securityGroupRuleSet"))
        .into_iter()
        .filter(|r| !crate::event::is_true(r.get("isEgress")))
        .filter_map(|r| {
            let cidr = as_text(r.get("cidrIpv4")).or_else(|| as_text(r.get("cidrIpv6")))?;
            Some(Permission {
                protocol: as_text(r.get("ipProtocol")).unwrap_or_else(|| "-1".into()),
                from: as_i64(r.get("fromPort")),
                to: as_i64(r.get("toPort")),
                cidr,
            })
        })
        .collect()
}

/// What a world-open permission exposes: all ports, or the database ports in its range.
fn exposure(p: &Permission, db_ports: &[u16]) -> Option<String> {
    let proto = p.protocol.to_ascii_lowercase();
    let all_protocols = matches!(proto.as_str(), "-1" | "all");
    if !all_protocols && !matches!(proto.as_str(), "tcp" | "6") {
        return None;
    }
    let (from, to) = (p.from.unwrap_or(-1), p.to.unwrap_or(-1));
    let full_range = (from <= 0 && (to == -1 || to >= 65535)) || all_protocols;
    if full_range {
        return Some("all ports".into());
    }
    let hit: Vec<String> = db_ports
        .iter()
        .filter(|port| from <= i64::from(**port) && i64::from(**port) <= to)
        .map(|p| p.to_string())
        .collect();
    (!hit.is_empty()).then(|| format!("port {}", hit.join(", ")))
}

pub(crate) fn detect(name: &str, ev: &EventView<'_>, cfg: &DetectConfig, out: &mut Vec<Hit>) {
    match name {
        "AuthorizeSecurityGroupIngress" => authorize(ev, cfg, out),
        "ModifySecurityGroupRules" => modify_rules(ev, cfg, out),
        _ => {}
    }
}

fn group_of(req: &Value) -> String {
    as_text(req.get("groupId"))
        .or_else(|| as_text(req.get("groupName")))
        .unwrap_or_else(|| "unknown".into())
}

fn authorize(ev: &EventView<'_>, cfg: &DetectConfig, out: &mut Vec<Hit>) {
    let Some(req) = ev.request() else {
        return;
    };
    let mut perms = permissions_from_request(req);
    if perms.is_empty()
        && let Some(resp) = ev.response()
    {
        perms = permissions_from_response(resp);
    }
    let group = group_of(req);
    report(&group, &perms, cfg, "AuthorizeSecurityGroupIngress", out);
}

fn modify_rules(ev: &EventView<'_>, cfg: &DetectConfig, out: &mut Vec<Hit>) {
    let Some(req) = ev.request() else {
        return;
    };
    let inner = req.get("ModifySecurityGroupRulesRequest").unwrap_or(req);
    let group = as_text(inner.get("GroupId"))
        .or_else(|| as_text(inner.get("groupId")))
        .unwrap_or_else(|| "unknown".into());
    let updates: Vec<&Value> = match inner.get("SecurityGroupRule") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    let mut perms = Vec::new();
    for update in updates {
        let rule = update.get("SecurityGroupRule").unwrap_or(update);
        let Some(cidr) = as_text(rule.get("CidrIpv4")).or_else(|| as_text(rule.get("CidrIpv6")))
        else {
            continue;
        };
        perms.push(Permission {
            protocol: as_text(rule.get("IpProtocol")).unwrap_or_else(|| "-1".into()),
            from: as_i64(rule.get("FromPort")),
            to: as_i64(rule.get("ToPort")),
            cidr,
        });
    }
    report(&group, &perms, cfg, "ModifySecurityGroupRules", out);
}

fn report(group: &str, perms: &[Permission], cfg: &DetectConfig, call: &str, out: &mut Vec<Hit>) {
    let mut opened = Vec::new();
    for p in perms {
        if !is_world(&p.cidr) {
            continue;
        }
        if let Some(what) = exposure(p, &cfg.db_ports) {
            opened.push(format!("{what} from {} ({})", p.cidr, p.protocol));
        }
    }
    if opened.is_empty() {
        return;
    }
    let mut hit = Hit::new(
        Det::SgDbPortOpenToInternet,
        "AwsEc2SecurityGroup",
        group.to_string(),
        format!(
            "security group {group} opened to the internet: {}",
            opened.join("; ")
        ),
    )
    .detail("rules", opened);
    if call == "ModifySecurityGroupRules" {
        // The request does not say whether the modified rule is ingress or egress.
        hit = hit.detail(
            "direction",
            "unknown (ModifySecurityGroupRules does not record it)",
        );
    }
    out.push(hit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_ranges() {
        assert!(is_world("0.0.0.0/0"));
        assert!(is_world("::/0"));
        assert!(is_world("208.236.235.254/0"));
        assert!(!is_world("0.0.0.0/16"));
        assert!(!is_world("10.0.0.0/8"));
        assert!(!is_world("0.0.0.0"));
    }

    #[test]
    fn exposure_ranges() {
        let ports = [3306, 5432];
        let p = |proto: &str, from, to| Permission {
            protocol: proto.into(),
            from: Some(from),
            to: Some(to),
            cidr: "0.0.0.0/0".into(),
        };
        assert_eq!(
            exposure(&p("tcp", 3306, 3306), &ports).as_deref(),
            Some("port 3306")
        );
        assert_eq!(
            exposure(&p("tcp", 3000, 6000), &ports).as_deref(),
            Some("port 3306, 5432")
        );
        assert_eq!(
            exposure(&p("tcp", 0, 65535), &ports).as_deref(),
            Some("all ports")
        );
        assert_eq!(
            exposure(&p("-1", -1, -1), &ports).as_deref(),
            Some("all ports")
        );
        assert_eq!(exposure(&p("tcp", 22, 22), &ports), None);
        assert_eq!(exposure(&p("udp", 3306, 3306), &ports), None);
    }
}
