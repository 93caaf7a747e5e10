//! Plain-text rendering of an exposure report: a summary table, then one block per database
//! with the path or the blocking link, the sources and the groups behind them. No colours:
//! the CLI adds them.

use std::fmt::Write as _;

use crate::ipset::{V4Set, V6Set, internet_v4, internet_v6, parse_v4, parse_v6};
use crate::report::{Cidr4, Cidr6, DbExposure, ExposureReport, NACL_DEFAULT_RULE};

/// The report as a summary table followed by a detail block per database.
pub fn render_table(report: &ExposureReport) -> String {
    let mut out = String::new();
    if report.databases.is_empty() {
        out.push_str("No databases in the snapshot.\n");
        return out;
    }
    let header = [
        "KIND",
        "DATABASE",
        "ACCOUNT",
        "REGION",
        "PORT",
        "INTERNET",
        "LINK",
        "IPV4 SOURCES",
        "IPV6 SOURCES",
        "GROUPS",
    ];
    let rows: Vec<[String; 10]> = report
        .databases
        .iter()
        .map(|d| {
            [
                d.kind.as_str().to_string(),
                d.identifier.clone(),
                d.account_id.clone(),
                d.region.clone(),
                d.port.map_or("?".to_string(), |p| p.to_string()),
                verdict(d).to_string(),
                d.blocked_by
                    .as_ref()
                    .map_or("-".to_string(), |b| b.link.as_str().to_string()),
                describe_v4(&d.sources.ipv4),
                describe_v6(&d.sources.ipv6),
                d.sources.security_groups.len().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                let pad = w - cell.chars().count();
                s.push_str(cell);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s.trim_end().to_string()
    };
    out.push_str(&line(&header.map(str::to_string)));
    out.push('\n');
    for r in &rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    for d in &report.databases {
        out.push('\n');
        detail(&mut out, d);
    }
    out
}

fn verdict(d: &DbExposure) -> &'static str {
    match d.internet_reachable {
        Some(true) => "REACHABLE",
        Some(false) => "no",
        None => "UNKNOWN",
    }
}

fn thousands(n: &str) -> String {
    let mut out = String::new();
    for (i, c) in n.chars().enumerate() {
        if i > 0 && (n.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn set4(cidrs: &[Cidr4]) -> V4Set {
    cidrs
        .iter()
        .filter_map(|c| parse_v4(&c.cidr).ok())
        .fold(V4Set::empty(), |acc, s| acc.union(&s))
}

fn set6(cidrs: &[Cidr6]) -> V6Set {
    cidrs
        .iter()
        .filter_map(|c| parse_v6(&c.cidr).ok())
        .fold(V6Set::empty(), |acc, s| acc.union(&s))
}

/// A short description of an IPv4 set: the blocks when few, else a count.
fn describe_v4(cidrs: &[Cidr4]) -> String {
    if cidrs.is_empty() {
        return "-".to_string();
    }
    let set = set4(cidrs);
    let n = thousands(&set.count().to_string());
    if set.is_full() {
        return "0.0.0.0/0".to_string();
    }
    if internet_v4().is_subset(&set) {
        return format!("all public IPv4 ({n} addresses)");
    }
    if cidrs.len() <= 3 {
        return cidrs
            .iter()
            .map(|c| c.cidr.as_str())
            .collect::<Vec<_>>()
            .join(", ");
    }
    format!("{} blocks ({n} addresses)", cidrs.len())
}

fn describe_v6(cidrs: &[Cidr6]) -> String {
    if cidrs.is_empty() {
        return "-".to_string();
    }
    let set = set6(cidrs);
    if set.is_full() {
        return "::/0".to_string();
    }
    if internet_v6().is_subset(&set) {
        return "all public IPv6".to_string();
    }
    if cidrs.len() <= 3 {
        return cidrs
            .iter()
            .map(|c| c.cidr.as_str())
            .collect::<Vec<_>>()
            .join(", ");
    }
    format!("{} blocks", cidrs.len())
}

fn rules(v: &[i32]) -> String {
    v.iter()
        .map(|r| {
            if *r == NACL_DEFAULT_RULE {
                "*".to_string()
            } else {
                format!("#{r}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn detail(out: &mut String, d: &DbExposure) {
    let _ = writeln!(
        out,
        "{} {}  ({} {}, {}, port {}, {})",
        d.kind.as_str(),
        d.identifier,
        d.account_id,
        d.region,
        d.engine,
        d.port.map_or("unknown".to_string(), |p| p.to_string()),
        d.vpc_id.as_deref().unwrap_or("no VPC"),
    );
    match d.internet_reachable {
        Some(true) => {
            let _ = writeln!(out, "  internet: REACHABLE");
            for p in &d.path {
                let routes = p
                    .routes
                    .iter()
                    .map(|r| format!("{} -> {}", r.destination, r.target))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sg = p
                    .security_group_rules
                    .iter()
                    .map(|r| {
                        let ports = match (r.from_port, r.to_port) {
                            (Some(f), Some(t)) if f == t => format!(" {f}"),
                            (Some(f), Some(t)) if f >= 0 => format!(" {f}-{t}"),
                            _ => String::new(),
                        };
                        format!("{} {}{ports} from {}", r.group_id, r.protocol, r.source)
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let _ = writeln!(
                    out,
                    "    {} via {}: {} [{}] | {} in {} out {} | {}",
                    p.family.as_str(),
                    p.subnet_id,
                    p.route_table_id.as_deref().unwrap_or("?"),
                    routes,
                    p.network_acl_id.as_deref().unwrap_or("?"),
                    rules(&p.nacl_inbound_rules),
                    rules(&p.nacl_outbound_rules),
                    sg
                );
                let through = if p.sources.ipv4.is_empty() {
                    describe_v6(&p.sources.ipv6)
                } else {
                    describe_v4(&p.sources.ipv4)
                };
                let _ = writeln!(out, "      gets through: {through}");
            }
        }
        Some(false) => {
            if let Some(b) = &d.blocked_by {
                let _ = writeln!(
                    out,
                    "  internet: no, blocked by {}: {}",
                    b.link.as_str(),
                    b.detail
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "  internet: UNKNOWN: {}",
                d.unknown_reason.as_deref().unwrap_or("unknown")
            );
        }
    }
    let v4: Vec<String> = d
        .sources
        .ipv4
        .iter()
        .map(|c| format!("{} ({})", c.cidr, thousands(&c.addresses.to_string())))
        .collect();
    if !v4.is_empty() {
        let _ = writeln!(
            out,
            "  ipv4 sources ({} addresses): {}",
            thousands(&d.sources.ipv4_addresses.to_string()),
            v4.join(", ")
        );
    }
    if !d.sources.ipv6.is_empty() {
        let v6: Vec<&str> = d.sources.ipv6.iter().map(|c| c.cidr.as_str()).collect();
        let _ = writeln!(out, "  ipv6 sources: {}", v6.join(", "));
    }
    for g in &d.sources.security_groups {
        let mut s = format!("  group {}", g.group_id);
        if let Some(n) = &g.group_name {
            let _ = write!(s, " ({n})");
        }
        if let Some(o) = &g.owner_id {
            let _ = write!(s, " owner {o}");
        }
        let _ = write!(s, ": {} known interfaces", g.interfaces.len());
        if g.unknown_members {
            s.push_str(", members unknown");
        }
        if g.stale {
            s.push_str(", STALE reference");
        }
        if let Some(r) = &g.reason {
            let _ = write!(s, " ({r})");
        }
        let _ = writeln!(out, "{s}");
        for i in &g.interfaces {
            let _ = writeln!(
                out,
                "    {} {}{}",
                i.network_interface_id,
                i.private_ip_addresses
                    .iter()
                    .chain(&i.ipv6_addresses)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
                i.instance_id
                    .as_deref()
                    .map(|x| format!(" ({x})"))
                    .unwrap_or_default()
            );
        }
    }
    for p in &d.sources.prefix_lists {
        let entries = if p.entries_known {
            format!("{} entries", p.cidrs.len())
        } else {
            "entries unknown".to_string()
        };
        let _ = writeln!(
            out,
            "  prefix list {}{}: {entries}",
            p.prefix_list_id,
            p.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
    }
    if !d.sources.complete {
        let _ = writeln!(
            out,
            "  sources incomplete: {}",
            d.sources.unknown.join("; ")
        );
    }
    let egress = match d.egress.internet {
        Some(true) => {
            let via = d
                .egress
                .internet_via
                .iter()
                .map(|r| format!("{} {} -> {}", r.subnet_id, r.destination, r.target))
                .collect::<Vec<_>>()
                .join(", ");
            format!("to the internet via {via}")
        }
        Some(false) => "not to the internet".to_string(),
        None => format!(
            "internet unknown ({})",
            d.egress.unknown_reason.as_deref().unwrap_or("?")
        ),
    };
    let _ = writeln!(out, "  egress: {egress}");
    for p in &d.peered_vpcs {
        let mut what: Vec<String> = p.ipv4.iter().map(|c| c.cidr.clone()).collect();
        what.extend(p.ipv6.iter().map(|c| c.cidr.clone()));
        what.extend(p.security_groups.iter().map(|g| format!("group {g}")));
        let _ = writeln!(
            out,
            "  reachable from VPC {} via {}: {}",
            p.vpc_id.as_deref().unwrap_or("?"),
            p.peering_connection_id,
            what.join(", ")
        );
    }
    if let Some(p) = &d.peering_unknown {
        let _ = writeln!(out, "  peering partly unknown: {p}");
    }
    if let Some(s) = &d.subnets_unknown {
        let _ = writeln!(out, "  subnets unknown: {s}");
    }
    for n in &d.notes {
        let _ = writeln!(out, "  note: {n}");
    }
}
