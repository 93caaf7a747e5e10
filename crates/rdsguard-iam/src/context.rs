//! The request: who asks (principal), what (action), on what (resource), and the request
//! context keys (`aws:SourceIp`, `aws:PrincipalTag/team`, `rds:db-tag/env`...).
//!
//! Context key names are case-insensitive (IAM User Guide, *IAM JSON policy elements:
//! Condition*: "Condition key names are not case-sensitive"), so keys are stored lower-cased.
//!
//! A context is either *complete* (a key that is not in it is absent from the request, as in
//! the IAM policy simulator) or *partial* (static analysis for who-can: a key that is not in it
//! is unknown, unless it is declared known-absent, so conditions on it stay symbolic).

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::RequestError;
use crate::fasthash::FastSet;

/// A context value: single-valued keys have one string; multivalued keys (`aws:TagKeys`,
/// `ArrayOf...` types in the Service Authorization Reference) a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContextValue {
    Single(String),
    Multi(Vec<String>),
}

/// What the context knows about one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Single(&'a str),
    Multi(&'a [String]),
    /// Known not to be in the request.
    Absent,
    /// Not known statically (partial contexts only).
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Knowledge {
    #[default]
    Complete,
    Partial {
        /// Lower-cased keys known to be absent when not set (shared: a context's knowledge
        /// is copied to restrict it, per statement and resource).
        absent_keys: Arc<FastSet<String>>,
        /// Lower-cased key prefixes (e.g. `aws:principaltag/`) whose keys are all known.
        complete_prefixes: Arc<Vec<String>>,
        /// Keys that can be in this request at all (applicable to the action and resource).
        applicable: Option<Arc<FastSet<String>>>,
        applicable_prefixes: Arc<Vec<String>>,
    },
}

/// A small map of lower-cased context keys to values, searched by a precomputed hash: request
/// contexts hold a handful of keys, and compiled conditions hash their key once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyMap {
    entries: Vec<(u64, String, ContextValue)>,
}

/// The hash `KeyMap` uses for a (lower-cased) key.
pub fn key_hash(key: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = crate::fasthash::Fnv::default();
    h.write(key.as_bytes());
    h.finish()
}

impl KeyMap {
    pub fn insert(&mut self, key: String, value: ContextValue) {
        let h = key_hash(&key);
        match self
            .entries
            .iter_mut()
            .find(|(eh, k, _)| *eh == h && *k == key)
        {
            Some(e) => e.2 = value,
            None => self.entries.push((h, key, value)),
        }
    }
    pub fn get_hashed(&self, key: &str, hash: u64) -> Option<&ContextValue> {
        self.entries
            .iter()
            .find(|(h, k, _)| *h == hash && k == key)
            .map(|(_, _, v)| v)
    }
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.get_hashed(key, key_hash(key))
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &ContextValue)> {
        self.entries.iter().map(|(_, k, v)| (k, v))
    }
}

/// Shared, immutable context values (principal facts, resource facts) that many requests
/// consult without copying.
pub type ContextLayer = Arc<KeyMap>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    values: KeyMap,
    /// Consulted after `values`, in order.
    layers: Vec<ContextLayer>,
    knowledge: Arc<Knowledge>,
}

impl Default for RequestContext {
    fn default() -> RequestContext {
        // One shared `Complete`: contexts are made per evaluated principal and resource.
        static COMPLETE: std::sync::LazyLock<Arc<Knowledge>> =
            std::sync::LazyLock::new(|| Arc::new(Knowledge::Complete));
        RequestContext {
            values: KeyMap::default(),
            layers: Vec::new(),
            knowledge: COMPLETE.clone(),
        }
    }
}

impl RequestContext {
    /// An empty complete context: every key is absent.
    pub fn new() -> RequestContext {
        RequestContext::default()
    }

    /// A partial context for static analysis: unset keys are unknown, except `absent_keys`
    /// and keys under `complete_prefixes`, which are known to be absent.
    pub fn partial(
        absent_keys: impl IntoIterator<Item = impl Into<String>>,
        complete_prefixes: impl IntoIterator<Item = impl Into<String>>,
    ) -> RequestContext {
        RequestContext {
            values: KeyMap::default(),
            layers: Vec::new(),
            knowledge: Arc::new(Knowledge::Partial {
                absent_keys: Arc::new(
                    absent_keys
                        .into_iter()
                        .map(|k| k.into().to_ascii_lowercase())
                        .collect(),
                ),
                complete_prefixes: Arc::new(
                    complete_prefixes
                        .into_iter()
                        .map(|k| k.into().to_ascii_lowercase())
                        .collect(),
                ),
                applicable: None,
                applicable_prefixes: Arc::new(Vec::new()),
            }),
        }
    }

    /// In a partial context, declare which keys can be in the request at all (from the
    /// Service Authorization Reference); any other key is known to be absent.
    pub fn restrict_to_applicable(
        &mut self,
        keys: Arc<FastSet<String>>,
        prefixes: Arc<Vec<String>>,
    ) {
        let mut k = (*self.knowledge).clone();
        if let Knowledge::Partial {
            applicable,
            applicable_prefixes,
            ..
        } = &mut k
        {
            *applicable = Some(keys);
            *applicable_prefixes = prefixes;
        }
        self.knowledge = Arc::new(k);
    }

    /// A context that shares this one's knowledge and layers, with `layers` consulted first:
    /// cheap to build per principal.
    pub fn with_layers(&self, mut layers: Vec<ContextLayer>) -> RequestContext {
        let mut all = Vec::with_capacity(layers.len() + self.layers.len() + 1);
        all.append(&mut layers);
        if !self.values.is_empty() {
            all.push(Arc::new(self.values.clone()));
        }
        all.extend(self.layers.iter().cloned());
        RequestContext {
            values: KeyMap::default(),
            layers: all,
            knowledge: self.knowledge.clone(),
        }
    }

    /// The same context with the values set so far frozen into a shared layer (looked up
    /// first, as before): [`with_layers`](Self::with_layers) then copies no value.
    pub fn frozen(self) -> RequestContext {
        if self.values.is_empty() {
            return self;
        }
        let mut layers = Vec::with_capacity(self.layers.len() + 1);
        layers.push(Arc::new(self.values));
        layers.extend(self.layers);
        RequestContext {
            values: KeyMap::default(),
            layers,
            knowledge: self.knowledge,
        }
    }

    /// Freeze the values set so far into a shareable layer.
    pub fn into_layer(self) -> ContextLayer {
        Arc::new(self.values)
    }

    pub fn is_partial(&self) -> bool {
        matches!(*self.knowledge, Knowledge::Partial { .. })
    }

    pub fn insert(&mut self, key: &str, value: ContextValue) {
        self.values.insert(key.to_ascii_lowercase(), value);
    }

    pub fn insert_single(&mut self, key: &str, value: impl Into<String>) {
        self.insert(key, ContextValue::Single(value.into()));
    }

    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        let k = key.to_ascii_lowercase();
        let h = key_hash(&k);
        self.values
            .get_hashed(&k, h)
            .or_else(|| self.layers.iter().find_map(|l| l.get_hashed(&k, h)))
    }

    /// Iterate every key set (lower-cased) and its value, own values first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        let mut seen: HashSet<&str> = HashSet::new();
        self.values
            .iter()
            .chain(self.layers.iter().flat_map(|l| l.iter()))
            .filter(move |(k, _)| seen.insert(k.as_str()))
            .map(|(k, v)| (k.as_str(), v))
    }

    /// Look a key up; `key` must already be lower-cased (compiled policies store it so).
    pub fn lookup(&self, key: &str) -> Lookup<'_> {
        self.lookup_hashed(key, key_hash(key))
    }

    /// [`RequestContext::lookup`] with the key's hash precomputed ([`key_hash`]).
    pub fn lookup_hashed(&self, key: &str, hash: u64) -> Lookup<'_> {
        let found = self
            .values
            .get_hashed(key, hash)
            .or_else(|| self.layers.iter().find_map(|l| l.get_hashed(key, hash)));
        if let Some(v) = found {
            return match v {
                ContextValue::Single(s) => Lookup::Single(s),
                ContextValue::Multi(m) => Lookup::Multi(m),
            };
        }
        match &*self.knowledge {
            Knowledge::Complete => Lookup::Absent,
            Knowledge::Partial {
                absent_keys,
                complete_prefixes,
                applicable,
                applicable_prefixes,
            } => {
                if let Some(app) = applicable {
                    let prefix_ok = applicable_prefixes
                        .iter()
                        .any(|p| crate::sar::has_variable_prefix(key, p));
                    if !app.contains(key) && !prefix_ok {
                        return Lookup::Absent;
                    }
                }
                if absent_keys.contains(key)
                    || complete_prefixes
                        .iter()
                        .any(|p| key.starts_with(p.as_str()))
                {
                    Lookup::Absent
                } else {
                    Lookup::Unknown
                }
            }
        }
    }
}

/// The kind of principal making a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalKind {
    /// `arn:aws:iam::<acct>:user/<path/>name`
    User,
    /// `arn:aws:iam::<acct>:role/<path/>name`: stands for any session of the role.
    Role,
    /// `arn:aws:sts::<acct>:assumed-role/<role>/<session>`
    AssumedRole,
    /// `arn:aws:sts::<acct>:federated-user/<name>`
    FederatedUser,
    /// `arn:aws:iam::<acct>:root`
    Root,
    /// A service principal such as `rds.amazonaws.com`.
    Service,
}

/// The principal of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestPrincipal {
    pub arn: String,
    pub kind: PrincipalKind,
    /// `None` for service principals.
    pub account: Option<String>,
    pub partition: String,
    /// For an assumed-role session: the role name; for a federated user: the IAM user name.
    pub base_name: Option<String>,
}

impl RequestPrincipal {
    pub fn parse(text: &str) -> Result<RequestPrincipal, RequestError> {
        let bad = || RequestError::MalformedPrincipal(text.to_string());
        if !text.starts_with("arn:") {
            // Service principals: `<name>.amazonaws.com` (and `.amazonaws.com.cn`).
            if text.contains(".amazonaws.com") && !text.contains(':') && !text.contains('*') {
                return Ok(RequestPrincipal {
                    arn: text.to_string(),
                    kind: PrincipalKind::Service,
                    account: None,
                    partition: "aws".into(),
                    base_name: None,
                });
            }
            return Err(bad());
        }
        let arn = Arn::parse(text).ok_or_else(bad)?;
        if arn.account().len() != 12 || !arn.account().bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (kind, base_name) = match (arn.service(), arn.resource()) {
            ("iam", "root") => (PrincipalKind::Root, None),
            ("iam", r) if r.starts_with("user/") && r.len() > 5 => (PrincipalKind::User, None),
            ("iam", r) if r.starts_with("role/") && r.len() > 5 => (PrincipalKind::Role, None),
            ("sts", r) if r.starts_with("assumed-role/") => {
                let rest = &r["assumed-role/".len()..];
                match rest.split_once('/') {
                    Some((role, session)) if !role.is_empty() && !session.is_empty() => {
                        (PrincipalKind::AssumedRole, Some(role.to_string()))
                    }
                    _ => return Err(bad()),
                }
            }
            ("sts", r) if r.starts_with("federated-user/") && r.len() > 15 => (
                PrincipalKind::FederatedUser,
                Some(r["federated-user/".len()..].to_string()),
            ),
            _ => return Err(bad()),
        };
        Ok(RequestPrincipal {
            arn: text.to_string(),
            kind,
            account: Some(arn.account().to_string()),
            partition: arn.partition().to_string(),
            base_name,
        })
    }

    /// The last path element of a user or role ARN (`alice` for `user/dev/alice`).
    pub fn name(&self) -> Option<&str> {
        match self.kind {
            PrincipalKind::User | PrincipalKind::Role => self.arn.rsplit_once('/').map(|(_, n)| n),
            _ => None,
        }
    }
}

/// An ARN split into its six parts; `resource` keeps any further colons. Kept as one string
/// (`partition:service:region:account:resource`) with the ends of the parts: one allocation
/// per ARN, not five (an ARN is parsed for every resource asked about).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    text: String,
    /// Where the partition, service, region and account end in `text`.
    ends: [usize; 4],
}

impl Arn {
    pub fn parse(text: &str) -> Option<Arn> {
        ArnInPlace::of(text).map(ArnInPlace::to_arn)
    }

    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        let end = self.ends.get(i).copied().unwrap_or(self.text.len());
        self.text.get(start..end).unwrap_or_default()
    }

    pub fn partition(&self) -> &str {
        self.part(0)
    }

    pub fn service(&self) -> &str {
        self.part(1)
    }

    pub fn region(&self) -> &str {
        self.part(2)
    }

    pub fn account(&self) -> &str {
        self.part(3)
    }

    pub fn resource(&self) -> &str {
        self.part(4)
    }

    /// `partition:service:region:account:resource`.
    pub fn key(&self) -> &str {
        &self.text
    }

    /// Lower-case the partition, service, region and account (case-insensitive in
    /// matching), keeping the resource part as written.
    fn lower_prefix(&mut self) {
        if let Some(prefix) = self.text.get_mut(..self.ends[3]) {
            prefix.make_ascii_lowercase();
        }
    }
}

impl Serialize for Arn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Arn", 5)?;
        s.serialize_field("partition", self.partition())?;
        s.serialize_field("service", self.service())?;
        s.serialize_field("region", self.region())?;
        s.serialize_field("account", self.account())?;
        s.serialize_field("resource", self.resource())?;
        s.end()
    }
}

/// An ARN that parses ([`Arn::parse`] accepts exactly these), read in place: what a who-can
/// question about a resource needs first (its account and region), without the copies of a
/// parse.
#[derive(Debug, Clone, Copy)]
pub struct ArnInPlace<'t> {
    /// The ARN without its `arn:` prefix.
    rest: &'t str,
    /// Where the partition, service, region and account end in `rest`.
    ends: [usize; 4],
}

impl<'t> ArnInPlace<'t> {
    pub fn of(text: &'t str) -> Option<ArnInPlace<'t>> {
        let rest = text.strip_prefix("arn:")?;
        // One pass over the bytes up to the fourth colon (`:` is ASCII: a byte offset of one
        // is a character boundary).
        let mut ends = [0usize; 4];
        let mut found = 0;
        for (i, b) in rest.bytes().enumerate() {
            if b == b':' {
                ends[found] = i;
                found += 1;
                if found == ends.len() {
                    break;
                }
            }
        }
        if found < ends.len() {
            return None;
        }
        let parts = ArnInPlace { rest, ends };
        if parts.part(0).is_empty() || parts.part(1).is_empty() || parts.part(4).is_empty() {
            return None;
        }
        Some(parts)
    }

    fn part(&self, i: usize) -> &'t str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        let end = self.ends.get(i).copied().unwrap_or(self.rest.len());
        self.rest.get(start..end).unwrap_or_default()
    }

    /// The account as written.
    pub fn account(&self) -> &'t str {
        self.part(3)
    }

    /// The region as written (matching lower-cases it).
    pub fn region(&self) -> &'t str {
        self.part(2)
    }

    /// [`Arn::key`] of the parsed ARN when it is this text as it is (partition, service,
    /// region and account already in lower case, as AWS writes them); `None` otherwise.
    pub fn key_as_written(&self) -> Option<&'t str> {
        let prefix = self.rest.get(..self.ends[3])?;
        (!prefix.bytes().any(|b| b.is_ascii_uppercase())).then_some(self.rest)
    }

    fn to_arn(self) -> Arn {
        Arn {
            text: self.rest.to_string(),
            ends: self.ends,
        }
    }
}

/// The action of a request, pre-lower-cased for matching (actions are case-insensitive:
/// IAM User Guide, *IAM JSON policy elements: Action*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestAction {
    /// As given, e.g. `rds:DeleteDBInstance`.
    pub text: String,
    pub service: String,
    pub name: String,
}

impl RequestAction {
    pub fn parse(text: &str) -> Result<RequestAction, RequestError> {
        match text.split_once(':') {
            Some((s, n)) if !s.is_empty() && !n.is_empty() && !n.contains(':') => {
                Ok(RequestAction {
                    text: text.to_string(),
                    service: s.to_ascii_lowercase(),
                    name: n.to_lowercase(),
                })
            }
            _ => Err(RequestError::MalformedAction(text.to_string())),
        }
    }
}

/// The resource of a request: `*` (wildcard-only actions) or an ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestResource {
    pub text: String,
    /// The ARN (`None` for `*`) with partition, service, region and account lower-cased
    /// (matching is case-insensitive there; the resource part keeps its case).
    pub arn_lower: Option<Arn>,
    /// The account that owns the resource.
    pub account: Option<String>,
}

impl RequestResource {
    /// `account` overrides the ARN's account (for ARNs without one, such as S3 buckets).
    pub fn parse(text: &str, account: Option<&str>) -> Result<RequestResource, RequestError> {
        if text == "*" {
            return Ok(RequestResource {
                text: text.to_string(),
                arn_lower: None,
                account: account.map(str::to_string),
            });
        }
        let parts =
            ArnInPlace::of(text).ok_or_else(|| RequestError::MalformedArn(text.to_string()))?;
        Ok(RequestResource::of_parts(parts, account))
    }

    /// [`parse`](Self::parse) of the ARN read as `parts`: it cannot fail.
    pub fn of_parts(parts: ArnInPlace<'_>, account: Option<&str>) -> RequestResource {
        let text = ["arn:", parts.rest].concat();
        let mut lower = parts.to_arn();
        // The account as written (an account id has no case; kept verbatim all the same).
        let acct = account
            .map(str::to_string)
            .or_else(|| (!lower.account().is_empty()).then(|| lower.account().to_string()));
        lower.lower_prefix();
        RequestResource {
            text,
            arn_lower: Some(lower),
            account: acct,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_kinds() {
        let k = |s: &str| RequestPrincipal::parse(s).map(|p| p.kind);
        assert_eq!(
            k("arn:aws:iam::111122223333:user/a").unwrap(),
            PrincipalKind::User
        );
        assert_eq!(
            k("arn:aws:iam::111122223333:role/x/r").unwrap(),
            PrincipalKind::Role
        );
        assert_eq!(
            k("arn:aws:sts::111122223333:assumed-role/r/s").unwrap(),
            PrincipalKind::AssumedRole
        );
        assert_eq!(
            k("arn:aws:iam::111122223333:root").unwrap(),
            PrincipalKind::Root
        );
        assert_eq!(k("rds.amazonaws.com").unwrap(), PrincipalKind::Service);
        assert!(k("arn:aws:iam::1:user/a").is_err());
        assert!(k("bob").is_err());
        assert!(k("arn:aws:sts::111122223333:assumed-role/r").is_err());
    }

    #[test]
    fn partial_lookup() {
        let mut c = RequestContext::partial(["aws:username"], ["aws:principaltag/"]);
        c.insert_single("aws:PrincipalArn", "x");
        assert_eq!(c.lookup("aws:principalarn"), Lookup::Single("x"));
        assert_eq!(c.lookup("aws:username"), Lookup::Absent);
        assert_eq!(c.lookup("aws:principaltag/team"), Lookup::Absent);
        assert_eq!(c.lookup("aws:sourceip"), Lookup::Unknown);
        c.restrict_to_applicable(
            Arc::new(["aws:principalarn".to_string()].into_iter().collect()),
            Arc::new(vec![]),
        );
        assert_eq!(c.lookup("aws:sourceip"), Lookup::Absent);
    }

    #[test]
    fn arn_parsing_keeps_colons_in_resource() {
        let a = Arn::parse("arn:aws:rds:us-east-1:111122223333:db:prod").unwrap();
        assert_eq!(a.resource(), "db:prod");
        assert!(Arn::parse("arn:aws:rds").is_none());
        assert!(Arn::parse("nope:aws:rds:a:b:c").is_none());
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"partition": "aws", "service": "rds", "region": "us-east-1",
                "account": "111122223333", "resource": "db:prod"})
        );
    }

    proptest::proptest! {
        /// The parts of an ARN are what splitting it at its first five colons gives, with
        /// the same refusals (no `arn` prefix, fewer than six parts, an empty partition,
        /// service or resource); lower-casing touches the four first parts only.
        #[test]
        fn arn_parts_are_the_text_split_at_five_colons(
            text in "(arn|ARN|x)?(:[aA:b*]{0,3}){0,7}",
        ) {
            let mut it = text.splitn(6, ':');
            let parts: Vec<&str> = (0..6).filter_map(|_| it.next()).collect();
            let want = (parts.len() == 6
                && parts[0] == "arn"
                && !parts[1].is_empty()
                && !parts[2].is_empty()
                && !parts[5].is_empty())
                .then(|| parts[1..].to_vec());
            let got = Arn::parse(&text);
            let got_parts = got.as_ref().map(|a| {
                vec![a.partition(), a.service(), a.region(), a.account(), a.resource()]
            });
            proptest::prop_assert_eq!(got_parts, want.clone());
            if let (Some(mut a), Some(want)) = (got, want) {
                proptest::prop_assert_eq!(a.key(), want.join(":"));
                a.lower_prefix();
                let lowered: Vec<String> =
                    want[..4].iter().map(|p| p.to_ascii_lowercase()).collect();
                proptest::prop_assert_eq!(
                    vec![a.partition(), a.service(), a.region(), a.account()],
                    lowered.iter().map(String::as_str).collect::<Vec<_>>()
                );
                proptest::prop_assert_eq!(a.resource(), want[4]);
            }
        }
    }
}
