//! The JSON trees policy documents are read from: `serde_json::Value`, and a lighter tree
//! whose strings borrow the text when they have no escapes (most policy strings), so that
//! reading thousands of policies does not copy every key and value before keeping a few.
//!
//! Both are read through [`Json`], so the policy grammar is written once
//! ([`crate::policy`]). The borrowed tree keeps `Value`'s object semantics (keys in sorted
//! order, the last of duplicate keys wins), which a test checks against `Value`.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// Read access to a JSON tree.
pub(crate) trait Json: Sized {
    fn as_str(&self) -> Option<&str>;
    fn as_array(&self) -> Option<&[Self]>;
    /// The members of an object, in key order (`None`: not an object).
    fn members(&self) -> Option<impl Iterator<Item = (&str, &Self)>>;
    /// Member `key` of an object.
    fn member(&self, key: &str) -> Option<&Self>;
    fn object_len(&self) -> Option<usize>;
    /// A string, boolean or number as the text a condition compares.
    fn scalar_text(&self) -> Option<String>;
    /// The value as JSON, for error messages.
    fn render(&self) -> String;
}

impl Json for Value {
    fn as_str(&self) -> Option<&str> {
        Value::as_str(self)
    }
    fn as_array(&self) -> Option<&[Value]> {
        Value::as_array(self).map(Vec::as_slice)
    }
    fn members(&self) -> Option<impl Iterator<Item = (&str, &Value)>> {
        self.as_object()
            .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)))
    }
    fn member(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }
    fn object_len(&self) -> Option<usize> {
        self.as_object().map(|m| m.len())
    }
    fn scalar_text(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    fn render(&self) -> String {
        self.to_string()
    }
}

/// A JSON value whose strings and keys borrow the text they were read from when they can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Borrowed<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Borrowed<'a>>),
    /// Sorted by key, each key once: the last of duplicate keys wins (as `serde_json::Map`).
    /// A list, not a map: policy objects have a few members, and a tree's node was a larger
    /// allocation than the whole list.
    Object(Vec<(Cow<'a, str>, Borrowed<'a>)>),
}

impl<'a> Borrowed<'a> {
    /// Parse `text` (any JSON serde_json accepts, with its limits).
    pub(crate) fn parse(text: &'a str) -> Result<Borrowed<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The same tree as a `serde_json::Value` (tests compare the two readings).
    #[cfg(test)]
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Borrowed::Null => Value::Null,
            Borrowed::Bool(b) => Value::Bool(*b),
            Borrowed::Number(n) => Value::Number(n.clone()),
            Borrowed::String(s) => Value::String(s.to_string()),
            Borrowed::Array(items) => Value::Array(items.iter().map(Self::to_value).collect()),
            Borrowed::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl Json for Borrowed<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Borrowed::String(s) => Some(s),
            _ => None,
        }
    }
    fn as_array(&self) -> Option<&[Self]> {
        match self {
            Borrowed::Array(items) => Some(items),
            _ => None,
        }
    }
    fn members(&self) -> Option<impl Iterator<Item = (&str, &Self)>> {
        match self {
            Borrowed::Object(m) => Some(m.iter().map(|(k, v)| (&**k, v))),
            _ => None,
        }
    }
    fn member(&self, key: &str) -> Option<&Self> {
        match self {
            Borrowed::Object(m) => m
                .binary_search_by(|(k, _)| (**k).cmp(key))
                .ok()
                .and_then(|i| m.get(i))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    fn object_len(&self) -> Option<usize> {
        match self {
            Borrowed::Object(m) => Some(m.len()),
            _ => None,
        }
    }
    fn scalar_text(&self) -> Option<String> {
        match self {
            Borrowed::String(s) => Some(s.to_string()),
            Borrowed::Bool(b) => Some(b.to_string()),
            Borrowed::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    fn render(&self) -> String {
        // Only reached on the way to an error, which `PolicyDocument::parse` reports from
        // the `Value` reading of the same text: rendered plainly.
        match self {
            Borrowed::Null => "null".into(),
            Borrowed::Bool(b) => b.to_string(),
            Borrowed::Number(n) => n.to_string(),
            Borrowed::String(s) => format!("{s:?}"),
            Borrowed::Array(_) => "an array".into(),
            Borrowed::Object(_) => "an object".into(),
        }
    }
}

impl<'de> Deserialize<'de> for Borrowed<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Borrowed<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Borrowed::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Borrowed::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Borrowed::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
        // serde_json reads only finite numbers; `Value` turns others into null the same way.
        Ok(Number::from_f64(n).map_or(Borrowed::Null, Borrowed::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Borrowed::String(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Borrowed::String(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Borrowed::String(Cow::Owned(s)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Borrowed::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Borrowed::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Borrowed::deserialize(d)
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Borrowed::Array(items))
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut members: Vec<(Cow<'de, str>, Borrowed<'de>)> =
            Vec::with_capacity(map.size_hint().unwrap_or(0).min(16));
        while let Some(Key(k)) = map.next_key()? {
            let v: Borrowed<'de> = map.next_value()?;
            members.push((k, v));
        }
        // Stable: duplicates stay in the order read, and the last of each is kept.
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(Cow<'de, str>, Borrowed<'de>)> = Vec::with_capacity(members.len());
        for member in members {
            match kept.last_mut() {
                Some(last) if last.0 == member.0 => *last = member,
                _ => kept.push(member),
            }
        }
        Ok(Borrowed::Object(kept))
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// JSON texts shaped like policies, with escapes, duplicate keys, numbers and nesting.
    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            any::<bool>().prop_map(|b| b.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            (-1e6f64..1e6).prop_map(|x| format!("{x:?}")),
            "[a-zA-Z:*/\\-]{0,8}".prop_map(|s| format!("{s:?}")),
            Just(r#""esc\"aped\u00e9""#.to_string()),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(
                    (
                        prop_oneof![Just("Effect"), Just("Action"), Just("k\\u0041"), Just("")],
                        inner
                    ),
                    0..4
                )
                .prop_map(|m| {
                    let members: Vec<String> =
                        m.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_borrowed_tree_reads_as_value_does(text in json_text()) {
            let value: Result<Value, _> = serde_json::from_str(&text);
            let tree = Borrowed::parse(&text);
            match (value, tree) {
                (Ok(v), Ok(t)) => prop_assert_eq!(t.to_value(), v),
                (Err(_), Err(_)) => {}
                (v, t) => prop_assert!(false, "{text}: {v:?} vs {t:?}"),
            }
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let text = r#"{"Action":["rds:Delete*","a\"b"]}"#;
        let Ok(Borrowed::Object(m)) = Borrowed::parse(text) else {
            panic!("not an object");
        };
        assert!(m.iter().all(|(k, _)| matches!(k, Cow::Borrowed(_))));
        let Some(Borrowed::Array(items)) = m.iter().find(|(k, _)| k == "Action").map(|(_, v)| v)
        else {
            panic!("no array");
        };
        assert!(matches!(
            items[0],
            Borrowed::String(Cow::Borrowed("rds:Delete*"))
        ));
        assert!(matches!(&items[1], Borrowed::String(Cow::Owned(s)) if s == "a\"b"));
    }
}
