//! [`Evidence`]: the facts behind a finding, as a small vector of (key, value) sorted by key.
//!
//! It replaces a `BTreeMap<String, serde_json::Value>`, whose smallest node holds room for
//! eleven entries (about 600 bytes for the two or three facts a finding usually has). Keys are
//! [`Text`], so the `&'static str` keys of the checks cost nothing, and a value may be shared
//! ([`EvidenceValue::Shared`]) between the findings that carry the same answer, e.g. the same
//! list of principals who can delete a database. It reads like the map it replaces (`get`,
//! `ev["key"]`, iteration in key order yielding `(&str, &Value)`) and serializes to the same
//! JSON object.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, Index};
use std::sync::{Arc, OnceLock};

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::Text;

/// One evidence value: owned, or shared with other findings (cloning counts a reference).
#[derive(Clone)]
pub enum EvidenceValue {
    Owned(Value),
    Shared(Arc<Value>),
    /// An array whose items are shared with other findings (e.g. the entry of a principal
    /// listed for many databases); see [`SharedList`].
    List(Arc<SharedList>),
}

/// An array of shared items. It serializes item by item; read as one [`Value`] (`get`,
/// `ev["key"]`), it is assembled on first read and kept, so findings that are only written
/// out never copy their items.
pub struct SharedList {
    items: Vec<Arc<Value>>,
    assembled: OnceLock<Value>,
}

impl SharedList {
    pub fn new(items: Vec<Arc<Value>>) -> SharedList {
        SharedList {
            items,
            assembled: OnceLock::new(),
        }
    }

    pub fn items(&self) -> &[Arc<Value>] {
        &self.items
    }

    fn value(&self) -> &Value {
        self.assembled
            .get_or_init(|| Value::Array(self.items.iter().map(|v| Value::clone(v)).collect()))
    }
}

impl Serialize for SharedList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.items.iter().map(|v| &**v))
    }
}

impl Deref for EvidenceValue {
    type Target = Value;
    fn deref(&self) -> &Value {
        match self {
            EvidenceValue::Owned(v) => v,
            EvidenceValue::Shared(v) => v,
            EvidenceValue::List(l) => l.value(),
        }
    }
}

impl PartialEq for EvidenceValue {
    fn eq(&self, other: &EvidenceValue) -> bool {
        **self == **other
    }
}

impl fmt::Debug for EvidenceValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl From<Value> for EvidenceValue {
    fn from(v: Value) -> EvidenceValue {
        EvidenceValue::Owned(v)
    }
}

impl From<Arc<Value>> for EvidenceValue {
    fn from(v: Arc<Value>) -> EvidenceValue {
        EvidenceValue::Shared(v)
    }
}

impl From<Arc<SharedList>> for EvidenceValue {
    fn from(l: Arc<SharedList>) -> EvidenceValue {
        EvidenceValue::List(l)
    }
}

impl Serialize for EvidenceValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            EvidenceValue::Owned(v) => v.serialize(serializer),
            EvidenceValue::Shared(v) => v.serialize(serializer),
            EvidenceValue::List(l) => l.serialize(serializer),
        }
    }
}

/// The facts that decided a finding, sorted by key (each key once).
#[derive(Clone, Default, PartialEq)]
pub struct Evidence {
    entries: Vec<(Text, EvidenceValue)>,
}

impl Evidence {
    pub fn new() -> Evidence {
        Evidence::default()
    }

    pub fn with_capacity(n: usize) -> Evidence {
        Evidence {
            entries: Vec::with_capacity(n),
        }
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Set `key` to `value`, returning the value it replaces (like `BTreeMap::insert`).
    pub fn insert(&mut self, key: Text, value: Value) -> Option<EvidenceValue> {
        self.put(key, EvidenceValue::Owned(value))
    }

    /// Set `key` to a value shared with other findings (no copy).
    pub fn insert_shared(&mut self, key: Text, value: Arc<Value>) -> Option<EvidenceValue> {
        self.put(key, EvidenceValue::Shared(value))
    }

    /// Set `key` to an owned or shared value.
    pub fn put(&mut self, key: Text, value: EvidenceValue) -> Option<EvidenceValue> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).ok().map(|i| &*self.entries[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    pub fn remove(&mut self, key: &str) -> Option<EvidenceValue> {
        self.position(key).ok().map(|i| self.entries.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `(key, value)` in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> + Clone {
        self.entries.iter().map(|(k, v)| (k.as_str(), &**v))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> + Clone {
        self.entries.iter().map(|(_, v)| &**v)
    }

    /// A `BTreeMap` copy, for code that wants one.
    pub fn to_map(&self) -> BTreeMap<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
}

impl Index<&str> for Evidence {
    type Output = Value;
    /// Like `BTreeMap`'s index: panics when the key is absent (tests); use [`Evidence::get`].
    fn index(&self, key: &str) -> &Value {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no evidence `{key}`"),
        }
    }
}

impl<'a> IntoIterator for &'a Evidence {
    type Item = (&'a str, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Text, EvidenceValue)>,
        fn(&'a (Text, EvidenceValue)) -> (&'a str, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        fn view(e: &(Text, EvidenceValue)) -> (&str, &Value) {
            (e.0.as_str(), &*e.1)
        }
        self.entries.iter().map(view)
    }
}

impl<K: Into<Text>, V: Into<EvidenceValue>> Extend<(K, V)> for Evidence {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.put(k.into(), v.into());
        }
    }
}

impl<K: Into<Text>, V: Into<EvidenceValue>> FromIterator<(K, V)> for Evidence {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Evidence {
        let mut e = Evidence::new();
        e.extend(iter);
        e
    }
}

impl From<BTreeMap<String, Value>> for Evidence {
    fn from(map: BTreeMap<String, Value>) -> Evidence {
        // Already sorted and unique: no search needed.
        Evidence {
            entries: map
                .into_iter()
                .map(|(k, v)| (Text::from(k), EvidenceValue::Owned(v)))
                .collect(),
        }
    }
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k.as_str(), v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Evidence, D::Error> {
        BTreeMap::<String, Value>::deserialize(deserializer).map(Evidence::from)
    }
}

/// The schema of the map it replaces.
impl schemars::JsonSchema for Evidence {
    fn inline_schema() -> bool {
        BTreeMap::<String, Value>::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        BTreeMap::<String, Value>::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        BTreeMap::<String, Value>::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        BTreeMap::<String, Value>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn behaves_like_the_sorted_map_it_replaces() {
        let mut e = Evidence::new();
        assert!(e.insert("zeta".into(), json!(1)).is_none());
        e.insert("alpha".into(), "a".into());
        e.insert_shared(String::from("mid").into(), Arc::new(json!([1, 2])));
        let replaced = e.insert("zeta".into(), json!(2));
        assert_eq!(replaced.as_deref(), Some(&json!(1)));
        assert_eq!(e.keys().collect::<Vec<_>>(), ["alpha", "mid", "zeta"]);
        assert_eq!(e["mid"][1], 2);
        assert!(e.contains_key("alpha") && !e.contains_key("beta"));

        let map: BTreeMap<String, Value> = [
            ("zeta".to_string(), json!(2)),
            ("alpha".to_string(), json!("a")),
            ("mid".to_string(), json!([1, 2])),
        ]
        .into();
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(e, Evidence::from(map.clone()));
        assert_eq!(e.to_map(), map);
        let back: Evidence = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        assert_eq!(e.remove("alpha").as_deref(), Some(&json!("a")));
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn shared_lists_serialize_and_read_like_arrays() {
        let a = Arc::new(json!({"principal": "arn:aws:iam::1:role/a"}));
        let b = Arc::new(json!({"principal": "arn:aws:iam::1:role/b"}));
        let list = Arc::new(SharedList::new(vec![a.clone(), b]));
        let mut e = Evidence::new();
        e.put("principals".into(), list.clone().into());
        e.insert("count".into(), json!(2));
        let mut f = Evidence::new();
        f.put("principals".into(), list.into());
        // Written out item by item, same JSON as an owned array.
        let expected = json!({"count": 2, "principals": [
            {"principal": "arn:aws:iam::1:role/a"}, {"principal": "arn:aws:iam::1:role/b"}
        ]});
        assert_eq!(serde_json::to_value(&e).unwrap(), expected);
        // Read as one value.
        assert_eq!(e["principals"][1]["principal"], "arn:aws:iam::1:role/b");
        // Items are shared, not copied, between findings.
        assert_eq!(Arc::strong_count(&a), 2);
        assert_eq!(f["principals"], expected["principals"]);
    }

    #[test]
    fn shared_values_are_not_copied() {
        let principals = Arc::new(json!([{"principal": "arn:aws:iam::1:role/a"}]));
        let mut a = Evidence::new();
        a.insert_shared("principals".into(), principals.clone());
        let b = a.clone();
        assert_eq!(Arc::strong_count(&principals), 3);
        assert_eq!(a, b);
    }
}
