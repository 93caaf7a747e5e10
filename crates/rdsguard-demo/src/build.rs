//! Small builders shared by the demo account and the synthetic generator: deterministic AWS-style
//! identifiers, ARNs, tags, security group rules and network ACL entries.
//!
//! Identifiers are derived from a name with a hash, so the same name always yields the same id
//! and resources can refer to each other by name without threading ids through the builders.

use rdsguard_model::{
    NetworkAclEntry, PortRange, SecurityGroupPermission, SecurityGroupReference, Tags,
};

/// FNV-1a, 64 bits: tiny, stable across platforms and Rust versions (unlike `DefaultHasher`).
pub fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// An EC2-style id: `prefix-0` followed by 16 hex digits (17 digits in all, as EC2 issues them).
pub fn ec2_id(prefix: &str, name: &str) -> String {
    format!("{prefix}-0{:016x}", fnv1a(name))
}

/// A UUID-shaped id (KMS key ids).
pub fn uuid(name: &str) -> String {
    let a = fnv1a(name);
    let b = fnv1a(&format!("{name}#2"));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// An upper-case alphanumeric token of `len` characters (DbiResourceId, IAM unique ids).
pub fn token(name: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(len);
    let mut state = fnv1a(name);
    for i in 0..len {
        if i % 12 == 0 && i > 0 {
            state = fnv1a(&format!("{name}#{i}"));
        }
        out.push(char::from(ALPHABET[(state & 31) as usize]));
        state >>= 5;
    }
    out
}

/// `arn:aws:<service>:<region>:<account>:<resource>`.
pub fn arn(service: &str, region: &str, account: &str, resource: &str) -> String {
    format!("arn:aws:{service}:{region}:{account}:{resource}")
}

/// ARN of an RDS resource, e.g. `rds_arn(region, account, "db", "orders-prod")`.
pub fn rds_arn(region: &str, account: &str, kind: &str, name: &str) -> String {
    arn("rds", region, account, &format!("{kind}:{name}"))
}

/// ARN of a KMS key by key id.
pub fn kms_key_arn(region: &str, account: &str, key_id: &str) -> String {
    arn("kms", region, account, &format!("key/{key_id}"))
}

pub fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// An inbound or outbound TCP permission on one port.
pub fn tcp(port: i32) -> SecurityGroupPermission {
    tcp_range(port, port)
}

pub fn tcp_range(from: i32, to: i32) -> SecurityGroupPermission {
    SecurityGroupPermission {
        ip_protocol: "tcp".to_string(),
        from_port: Some(from),
        to_port: Some(to),
        ..Default::default()
    }
}

/// Protocol `-1`: every protocol and port.
pub fn all_traffic() -> SecurityGroupPermission {
    SecurityGroupPermission {
        ip_protocol: "-1".to_string(),
        ..Default::default()
    }
}

/// Chainable sources for a security group permission.
pub trait PermissionSources: Sized {
    fn cidr(self, cidr: &str) -> Self;
    fn cidr6(self, cidr: &str) -> Self;
    fn prefix_list(self, id: &str) -> Self;
    /// A reference to a group in the same account.
    fn group(self, group_id: &str) -> Self;
    /// A reference to a group in another account (optionally across a peering).
    fn foreign_group(self, account: &str, group_id: &str, peering: Option<&str>) -> Self;
}

impl PermissionSources for SecurityGroupPermission {
    fn cidr(mut self, cidr: &str) -> Self {
        self.ipv4_ranges.push(cidr.to_string());
        self
    }

    fn cidr6(mut self, cidr: &str) -> Self {
        self.ipv6_ranges.push(cidr.to_string());
        self
    }

    fn prefix_list(mut self, id: &str) -> Self {
        self.prefix_list_ids.push(id.to_string());
        self
    }

    fn group(mut self, group_id: &str) -> Self {
        self.security_groups.push(SecurityGroupReference {
            group_id: group_id.to_string(),
            ..Default::default()
        });
        self
    }

    fn foreign_group(mut self, account: &str, group_id: &str, peering: Option<&str>) -> Self {
        self.security_groups.push(SecurityGroupReference {
            group_id: group_id.to_string(),
            user_id: Some(account.to_string()),
            vpc_peering_connection_id: peering.map(str::to_string),
            peering_status: peering.map(|_| "active".to_string()),
            ..Default::default()
        });
        self
    }
}

/// Network ACL protocol numbers as EC2 reports them.
pub const PROTO_ALL: &str = "-1";
pub const PROTO_TCP: &str = "6";

/// A network ACL entry on an IPv4 CIDR.
pub fn nacl_entry(
    rule_number: i32,
    egress: bool,
    action: &str,
    protocol: &str,
    cidr: &str,
    ports: Option<(i32, i32)>,
) -> NetworkAclEntry {
    NetworkAclEntry {
        rule_number,
        protocol: protocol.to_string(),
        rule_action: action.to_string(),
        egress,
        cidr_block: Some(cidr.to_string()),
        ipv6_cidr_block: None,
        port_range: ports.map(|(from, to)| PortRange { from, to }),
    }
}

/// A network ACL entry on an IPv6 CIDR.
pub fn nacl_entry6(rule_number: i32, egress: bool, action: &str, cidr: &str) -> NetworkAclEntry {
    NetworkAclEntry {
        rule_number,
        protocol: PROTO_ALL.to_string(),
        rule_action: action.to_string(),
        egress,
        cidr_block: None,
        ipv6_cidr_block: Some(cidr.to_string()),
        port_range: None,
    }
}

/// The entries of a VPC's default network ACL: allow everything, then the implicit denies.
pub fn default_nacl_entries(with_ipv6: bool) -> Vec<NetworkAclEntry> {
    let mut entries = Vec::new();
    for egress in [false, true] {
        entries.push(nacl_entry(
            100,
            egress,
            "allow",
            PROTO_ALL,
            "0.0.0.0/0",
            None,
        ));
        entries.push(nacl_entry(
            32767,
            egress,
            "deny",
            PROTO_ALL,
            "0.0.0.0/0",
            None,
        ));
        if with_ipv6 {
            entries.push(nacl_entry6(101, egress, "allow", "::/0"));
            entries.push(nacl_entry6(32768, egress, "deny", "::/0"));
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_shaped_like_aws_ids() {
        let sg = ec2_id("sg", "us-east-1/db-postgres");
        assert_eq!(sg, ec2_id("sg", "us-east-1/db-postgres"));
        assert_ne!(sg, ec2_id("sg", "us-east-1/db-mysql"));
        assert_eq!(sg.len(), "sg-".len() + 17);
        assert!(sg[3..].bytes().all(|b| b.is_ascii_hexdigit()));

        let key = uuid("orders");
        let parts: Vec<_> = key.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);

        let t = token("orders-prod", 26);
        assert_eq!(t.len(), 26);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_ne!(t, token("orders-dev", 26));
    }
}
