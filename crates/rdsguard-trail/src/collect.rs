//! Grouping detection hits into findings in bounded memory.
//!
//! Hits are grouped per (detection, resource, account, region, discriminator). A group counts
//! every event but keeps only the `max_events` earliest ones as evidence (ordered by event
//! time, then eventID, input and position), so that the output is the same whatever the order
//! in which threads saw the files, and memory stays bounded by the number of distinct
//! resources hit rather than the number of events.

use std::cmp::Ordering;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use rdsguard_findings::Severity;
use serde::Serialize;
use serde_json::Value;

use crate::timefmt::Instant;

/// One event behind a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    #[serde(rename = "eventID", skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(rename = "eventTime", skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    #[serde(rename = "eventSource", skip_serializing_if = "Option::is_none")]
    pub event_source: Option<String>,
    #[serde(rename = "eventName", skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    #[serde(rename = "recipientAccountId", skip_serializing_if = "Option::is_none")]
    pub recipient_account_id: Option<String>,
    #[serde(rename = "awsRegion", skip_serializing_if = "Option::is_none")]
    pub aws_region: Option<String>,
    /// The identity's ARN (or principal id, or type) from `userIdentity`.
    pub principal: String,
    #[serde(rename = "principalType", skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    #[serde(rename = "sourceIPAddress", skip_serializing_if = "Option::is_none")]
    pub source_ip_address: Option<String>,
    #[serde(rename = "userAgent", skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(rename = "errorCode", skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The file (or object) the event was read from.
    #[serde(serialize_with = "serialize_arc_str")]
    pub input: Arc<str>,
    /// Detection-specific facts from this event.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, Value>,
    #[serde(skip)]
    pub(crate) time: Option<Instant>,
    #[serde(skip)]
    pub(crate) ordinal: u64,
}

fn serialize_arc_str<S: serde::Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

impl EventRecord {
    fn sort_key(&self) -> SortKey<'_> {
        let (unix, nanos) = self.time.map_or((i64::MAX, 0), |t| (t.unix, t.nanos));
        (
            unix,
            nanos,
            self.event_id.as_deref(),
            &self.input,
            self.ordinal,
        )
    }
}

/// Evidence order: event time (unknown last), eventID, input, position in the input.
pub(crate) type SortKey<'a> = (i64, u32, Option<&'a str>, &'a str, u64);

/// Builds the sort key of an event that has no [`EventRecord`] yet.
pub(crate) fn sort_key<'a>(
    time: Option<Instant>,
    event_id: Option<&'a str>,
    input: &'a str,
    ordinal: u64,
) -> SortKey<'a> {
    let (unix, nanos) = time.map_or((i64::MAX, 0), |t| (t.unix, t.nanos));
    (unix, nanos, event_id, input, ordinal)
}

/// Owned copy of a [`SortKey`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct OwnedSortKey(i64, u32, Option<String>, Arc<str>, u64);

impl OwnedSortKey {
    fn of(k: SortKey<'_>, input: &Arc<str>) -> OwnedSortKey {
        OwnedSortKey(k.0, k.1, k.2.map(str::to_string), Arc::clone(input), k.4)
    }
    fn as_ref(&self) -> SortKey<'_> {
        (self.0, self.1, self.2.as_deref(), &self.3, self.4)
    }
}

/// Heap entry ordered by the record's sort key (max-heap: the latest on top).
#[derive(Debug, Clone)]
struct Keyed(EventRecord);

impl PartialEq for Keyed {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Keyed {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.sort_key().cmp(&other.0.sort_key())
    }
}

/// Identifies a finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct GroupKey {
    /// Index in the scanner's detection list (built-ins, then Sigma rules).
    pub(crate) check: usize,
    pub(crate) resource_type: &'static str,
    pub(crate) resource_id: String,
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) discriminator: String,
}

/// A [`GroupKey`] made of borrowed parts, to find a group without allocating.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyRef<'k> {
    pub(crate) check: usize,
    pub(crate) resource_type: &'static str,
    pub(crate) resource_id: &'k str,
    pub(crate) account: &'k str,
    pub(crate) region: &'k str,
    pub(crate) discriminator: &'k str,
}

impl KeyRef<'_> {
    fn owned(&self) -> GroupKey {
        GroupKey {
            check: self.check,
            resource_type: self.resource_type,
            resource_id: self.resource_id.to_string(),
            account: self.account.to_string(),
            region: self.region.to_string(),
            discriminator: self.discriminator.to_string(),
        }
    }

    fn is(&self, k: &GroupKey) -> bool {
        self.check == k.check
            && self.resource_type == k.resource_type
            && self.resource_id == k.resource_id
            && self.account == k.account
            && self.region == k.region
            && self.discriminator == k.discriminator
    }

    fn fingerprint(&self, state: &RandomState) -> u64 {
        let mut h = state.build_hasher();
        self.check.hash(&mut h);
        self.resource_type.hash(&mut h);
        self.resource_id.hash(&mut h);
        self.account.hash(&mut h);
        self.region.hash(&mut h);
        self.discriminator.hash(&mut h);
        h.finish()
    }
}

impl GroupKey {
    fn as_ref(&self) -> KeyRef<'_> {
        KeyRef {
            check: self.check,
            resource_type: self.resource_type,
            resource_id: &self.resource_id,
            account: &self.account,
            region: &self.region,
            discriminator: &self.discriminator,
        }
    }
}

/// The events behind one finding.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) severity: Severity,
    pub(crate) resource_arn: Option<String>,
    /// Message of the earliest event.
    pub(crate) message: String,
    message_key: Option<OwnedSortKey>,
    pub(crate) count: u64,
    events: BinaryHeap<Keyed>,
    pub(crate) first: Option<Instant>,
    pub(crate) last: Option<Instant>,
    /// The finding stands only if this account is not trusted.
    pub(crate) unless_trusted: Option<String>,
}

impl Group {
    fn new(severity: Severity) -> Group {
        Group {
            severity,
            resource_arn: None,
            message: String::new(),
            message_key: None,
            count: 0,
            events: BinaryHeap::new(),
            first: None,
            last: None,
            unless_trusted: None,
        }
    }

    /// Counts one event; builds its record and message only if they are kept.
    pub(crate) fn offer(
        &mut self,
        key: SortKey<'_>,
        time: Option<Instant>,
        input: &Arc<str>,
        max_events: usize,
        record: impl FnOnce() -> EventRecord,
        message: impl FnOnce() -> String,
    ) {
        self.count += 1;
        if let Some(t) = time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        if self.message_key.as_ref().is_none_or(|k| key < k.as_ref()) {
            self.message = message();
            self.message_key = Some(OwnedSortKey::of(key, input));
        }
        if max_events == 0 {
            return;
        }
        let keep = self.events.len() < max_events
            || self.events.peek().is_some_and(|top| key < top.0.sort_key());
        if keep {
            push_bounded(&mut self.events, Keyed(record()), max_events);
        }
    }

    fn merge(&mut self, other: Group, max_events: usize) {
        self.count += other.count;
        self.severity = self.severity.max(other.severity);
        if self.resource_arn.is_none() {
            self.resource_arn = other.resource_arn;
        }
        if self.unless_trusted.is_none() {
            self.unless_trusted = other.unless_trusted;
        }
        for t in [other.first, other.last].into_iter().flatten() {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        if let Some(k) = other.message_key
            && self.message_key.as_ref().is_none_or(|mine| k < *mine)
        {
            self.message = other.message;
            self.message_key = Some(k);
        }
        for e in other.events {
            push_bounded(&mut self.events, e, max_events);
        }
    }

    /// The kept events, earliest first.
    pub(crate) fn events(&self) -> Vec<EventRecord> {
        let mut v: Vec<Keyed> = self.events.iter().cloned().collect();
        v.sort();
        v.into_iter().map(|k| k.0).collect()
    }
}

fn push_bounded(heap: &mut BinaryHeap<Keyed>, item: Keyed, max: usize) {
    if max == 0 {
        return;
    }
    if heap.len() < max {
        heap.push(item);
    } else if let Some(top) = heap.peek()
        && item < *top
    {
        heap.pop();
        heap.push(item);
    }
}

/// All groups of one worker, found by borrowed keys (no allocation for existing groups).
#[derive(Debug, Default)]
pub(crate) struct Groups {
    entries: Vec<(GroupKey, Group)>,
    index: HashMap<u64, Vec<u32>>,
    state: RandomState,
}

impl Groups {
    /// The group for `key`, created with `severity` if new; its severity is raised to
    /// `severity` otherwise.
    pub(crate) fn group(&mut self, key: KeyRef<'_>, severity: Severity) -> &mut Group {
        let fp = key.fingerprint(&self.state);
        let bucket = self.index.entry(fp).or_default();
        let found = bucket
            .iter()
            .copied()
            .find(|i| key.is(&self.entries[*i as usize].0));
        let i = match found {
            Some(i) => i as usize,
            None => {
                bucket.push(self.entries.len() as u32);
                self.entries.push((key.owned(), Group::new(severity)));
                self.entries.len() - 1
            }
        };
        let group = &mut self.entries[i].1;
        group.severity = group.severity.max(severity);
        group
    }

    pub(crate) fn get_mut(&mut self, key: &GroupKey) -> Option<&mut Group> {
        let fp = key.as_ref().fingerprint(&self.state);
        let i = *self
            .index
            .get(&fp)?
            .iter()
            .find(|i| self.entries[**i as usize].0 == *key)?;
        Some(&mut self.entries[i as usize].1)
    }

    pub(crate) fn merge(&mut self, other: Groups, max_events: usize) {
        for (key, group) in other.entries {
            let severity = group.severity;
            let mine = self.group(key.as_ref(), severity);
            if mine.count == 0 && mine.message_key.is_none() {
                *mine = group;
            } else {
                mine.merge(group, max_events);
            }
        }
    }

    pub(crate) fn into_entries(self) -> Vec<(GroupKey, Group)> {
        self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, unix: i64) -> EventRecord {
        EventRecord {
            event_id: Some(id.into()),
            event_time: None,
            event_source: None,
            event_name: None,
            recipient_account_id: None,
            aws_region: None,
            principal: "p".into(),
            principal_type: None,
            source_ip_address: None,
            user_agent: None,
            error_code: None,
            input: Arc::from("f"),
            details: BTreeMap::new(),
            time: Some(Instant { unix, nanos: 0 }),
            ordinal: 0,
        }
    }

    #[test]
    fn keeps_earliest_events_whatever_the_order() {
        let mut a = Group::new(Severity::Low);
        let mut b = Group::new(Severity::High);
        let input: Arc<str> = Arc::from("f");
        let offer = |g: &mut Group, id: String, t: i64| {
            let r = rec(&id, t);
            let time = r.time;
            g.offer(
                sort_key(time, Some(&id), "f", 0),
                time,
                &input,
                2,
                || r,
                || format!("m{t}"),
            );
        };
        for (i, t) in [5, 1, 9, 3].iter().enumerate() {
            offer(&mut a, format!("a{i}"), *t);
        }
        for (i, t) in [2, 8].iter().enumerate() {
            offer(&mut b, format!("b{i}"), *t);
        }
        a.merge(b, 2);
        assert_eq!(a.count, 6);
        assert_eq!(a.severity, Severity::High);
        let times: Vec<i64> = a.events().iter().map(|e| e.time.unwrap().unix).collect();
        assert_eq!(times, vec![1, 2]);
        assert_eq!(a.message, "m1");
        assert_eq!(a.first.unwrap().unix, 1);
        assert_eq!(a.last.unwrap().unix, 9);
    }
}
