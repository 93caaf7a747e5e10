//! [`Text`]: an immutable string that is free to create from a `&'static str` and cheap to
//! share, used for the parts of a finding that repeat across millions of findings (check id,
//! title, constant messages). It reads as a `&str` (`Deref`), compares with `str`, `&str` and
//! `String`, and serializes exactly like a `String`.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable string: borrowed for the program's lifetime, owned, or shared.
///
/// Made with `.into()` from a `&'static str` (free), a `String` or an `Arc<str>`; a borrowed
/// `&str` that is not `'static` needs `.to_string().into()`.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Owned(Box<str>),
    Shared(Arc<str>),
}

impl Text {
    /// A text borrowed for the program's lifetime: no allocation.
    pub const fn from_static(s: &'static str) -> Text {
        Text(Repr::Static(s))
    }

    /// `s` kept for the rest of the process, once per distinct string, as a static text: for
    /// the few names that millions of values hold (an account id, a region name), so that a
    /// copy is a copy and not an atomic count of references (a locked instruction for each
    /// copy and each drop: ~1.3% of a large account's analysis for the two names of each
    /// resource reference). Only for names from a small set: what is kept is never freed.
    pub fn interned(s: &str) -> Text {
        use std::collections::HashSet;
        use std::sync::{Mutex, OnceLock};
        static KEPT: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
        // A panic elsewhere while the set was held leaves it whole: every insert is complete.
        let mut kept = KEPT
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(&found) = kept.get(s) {
            return Text(Repr::Static(found));
        }
        let leaked: &'static str = Box::leak(Box::from(s));
        kept.insert(leaked);
        Text(Repr::Static(leaked))
    }

    /// A text shared with other holders of `s`: cloning it only counts a reference.
    pub fn shared(s: Arc<str>) -> Text {
        Text(Repr::Shared(s))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Owned(s) => s,
            Repr::Shared(s) => s,
        }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::from_static("")
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Text {
        Text::from_static(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Repr::Owned(s.into_boxed_str()))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text(Repr::Owned(s.as_str().into()))
    }
}

impl From<Box<str>> for Text {
    fn from(s: Box<str>) -> Text {
        Text(Repr::Owned(s))
    }
}

impl From<Arc<str>> for Text {
    fn from(s: Arc<str>) -> Text {
        Text::shared(s)
    }
}

impl From<Cow<'static, str>> for Text {
    fn from(s: Cow<'static, str>) -> Text {
        match s {
            Cow::Borrowed(s) => Text::from_static(s),
            Cow::Owned(s) => Text::from(s),
        }
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.as_str().to_string()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Text {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Text> for $other {
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}
eq_with!(str, String);

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        String::deserialize(deserializer).map(Text::from)
    }
}

/// The schema of a `String`: a `Text` is one on the wire.
impl schemars::JsonSchema for Text {
    fn inline_schema() -> bool {
        String::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        String::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        String::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::Text;
    use std::sync::Arc;

    /// One copy per distinct string, whoever asks and however the string was made.
    #[test]
    fn interned_texts_are_kept_once_per_string() {
        let a = Text::interned("111122223333");
        let b = Text::interned(&String::from("111122223333"));
        let other = Text::interned("us-east-1");
        assert_eq!(a, "111122223333");
        assert_eq!(a.as_str().as_ptr(), b.as_str().as_ptr());
        assert_ne!(a, other);
        assert_eq!(other, Text::interned("us-east-1"));
        assert_eq!(
            serde_json::to_string(&a).ok().as_deref(),
            Some("\"111122223333\"")
        );
    }

    #[test]
    fn reads_compares_and_serializes_like_a_string() {
        let owned = Text::from(String::from("rds_x"));
        let fixed = Text::from("rds_x");
        let shared = Text::shared(Arc::from("rds_x"));
        assert_eq!(owned, fixed);
        assert_eq!(fixed, shared);
        let string = String::from("rds_x");
        assert!(owned == "rds_x");
        assert!("rds_x" == shared);
        assert!(string == fixed);
        assert!(fixed == string);
        let (a, b) = (Text::from("a"), Text::from(String::from("b")));
        assert!(a < b);
        assert_eq!(shared.len(), 5);
        assert_eq!(format!("{fixed}/{owned:?}"), "rds_x/\"rds_x\"");
        assert_eq!(serde_json::to_string(&shared).unwrap(), "\"rds_x\"");
        let back: Text = serde_json::from_str("\"é\\n\"").unwrap();
        assert_eq!(back, "é\n");
    }
}
