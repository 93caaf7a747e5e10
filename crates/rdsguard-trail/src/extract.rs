//! Single-pass field extraction: which JSON paths to pull out of a record, and the serde
//! visitor that pulls them out while the record is parsed, without building a DOM.
//!
//! A [`FieldPlan`] is a trie of the paths the detections and the Sigma rules read. While a
//! record is parsed, keys that are not in the trie are skipped (`IgnoredAny`, which only scans
//! the bytes), objects on a wanted path are descended into, and wanted leaves are recorded as
//! byte spans of their raw JSON text inside the record ([`Slot::Raw`]). Nothing is copied or
//! allocated for a record unless a key contains an escape sequence.
//!
//! serde_json's `StreamDeserializer` (the only public API that reports how many bytes a value
//! took) only accepts `Deserialize` types, not seeds, so the plan and the output slots are
//! handed to the visitor through a thread-local [`ExtractCtx`].

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Index of a node in a [`FieldPlan`]; also the index of its [`Slot`].
pub(crate) type NodeId = u32;

/// The root node (the record itself).
pub(crate) const ROOT: NodeId = 0;

/// A trie of the JSON paths to extract from each record.
#[derive(Debug, Clone)]
pub(crate) struct FieldPlan {
    nodes: Vec<PlanNode>,
}

/// A child key, with cheap pre-checks before the byte comparison.
#[derive(Debug, Clone)]
struct ChildKey {
    len: usize,
    first: u8,
    last: u8,
    key: Box<str>,
    node: NodeId,
}

#[derive(Debug, Clone, Default)]
struct PlanNode {
    /// Child keys and their nodes (a few dozen at most: a linear scan with length and
    /// first/last-byte checks beats hashing every key of every record).
    children: Vec<ChildKey>,
    /// Only note that the value is present (its text is read from the whole record when
    /// needed): for large objects that only a few records need, recording a span would
    /// cost a UTF-8 validation of every byte of every record.
    lazy: bool,
}

impl Default for FieldPlan {
    fn default() -> Self {
        FieldPlan {
            nodes: vec![PlanNode::default()],
        }
    }
}

impl FieldPlan {
    /// Registers a path (`["userIdentity", "arn"]`) whose value is wanted; returns its node.
    /// Registering the same path twice returns the same node.
    pub(crate) fn register(&mut self, path: &[&str]) -> NodeId {
        let mut node = ROOT;
        for key in path {
            node = match self.child(node, key) {
                Some(child) => child,
                None => {
                    let id = self.nodes.len() as NodeId;
                    self.nodes.push(PlanNode::default());
                    let bytes = key.as_bytes();
                    self.nodes[node as usize].children.push(ChildKey {
                        len: bytes.len(),
                        first: bytes.first().copied().unwrap_or(0),
                        last: bytes.last().copied().unwrap_or(0),
                        key: (*key).into(),
                        node: id,
                    });
                    id
                }
            };
        }
        node
    }

    /// Registers a path whose presence only is recorded (see [`Slot::Present`]).
    pub(crate) fn register_lazy(&mut self, path: &[&str]) -> NodeId {
        let node = self.register(path);
        if node != ROOT {
            self.nodes[node as usize].lazy = true;
        }
        node
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    #[inline]
    pub(crate) fn child(&self, node: NodeId, key: &str) -> Option<NodeId> {
        self.child_bytes(node, key.as_bytes())
    }

    #[inline]
    fn child_bytes(&self, node: NodeId, b: &[u8]) -> Option<NodeId> {
        let (len, first, last) = (
            b.len(),
            b.first().copied().unwrap_or(0),
            b.last().copied().unwrap_or(0),
        );
        self.nodes[node as usize]
            .children
            .iter()
            .find(|c| c.len == len && c.first == first && c.last == last && same(&c.key, b))
            .map(|c| c.node)
    }

    /// How the value of `node` is recorded. A node with wanted children is descended into
    /// even if its whole value is wanted too: the hot fields under it must stay cheap, and a
    /// reader of the whole value falls back to the full record (rare).
    fn capture(&self, node: NodeId) -> Capture {
        let n = &self.nodes[node as usize];
        if n.lazy {
            Capture::Presence
        } else if n.children.is_empty() {
            Capture::Span
        } else {
            Capture::Descend
        }
    }
}

/// Byte equality without a library call: keys are short.
#[inline]
fn same(a: &str, b: &[u8]) -> bool {
    let a = a.as_bytes();
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

enum Capture {
    Span,
    Presence,
    Descend,
}

/// What extraction found at one node of the plan for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The key was not in the record (its parent was an object that lacked it), or the
    /// parent was absent.
    Absent,
    /// The raw JSON text of the value, as a byte range of the record.
    Raw { start: u32, len: u32 },
    /// The value was an object and its wanted children were extracted.
    Descended,
    /// The value was present but not an object where the plan expected one (an array, a
    /// scalar): readers of deeper paths must consult the full document.
    NotObject,
    /// The value is present; read it from the whole record (lazy nodes).
    Present,
}

/// Extraction context for the current thread: the plan and the state of the last record.
struct ThreadCtx {
    plan: Arc<FieldPlan>,
    state: ExtractCtx,
}

/// Extraction state of the record being parsed.
pub(crate) struct ExtractCtx {
    pub(crate) slots: Vec<Slot>,
    /// Address of the first byte of the slice being parsed (spans are relative to it).
    base: usize,
    /// The top-level value was a JSON object.
    pub(crate) is_object: bool,
    /// The record had a `Records` key holding an array: a whole log document.
    pub(crate) records: Option<(u32, u32)>,
}

thread_local! {
    static CTX: RefCell<Option<ThreadCtx>> = const { RefCell::new(None) };
}

/// Installs `plan` for extraction on this thread (no-op when it is already installed).
pub(crate) fn install(plan: &Arc<FieldPlan>) {
    CTX.with(|cell| {
        let mut guard = cell.borrow_mut();
        let same = guard
            .as_ref()
            .is_some_and(|ctx| Arc::ptr_eq(&ctx.plan, plan));
        if !same {
            *guard = Some(ThreadCtx {
                plan: Arc::clone(plan),
                state: ExtractCtx {
                    slots: Vec::with_capacity(plan.len()),
                    base: 0,
                    is_object: false,
                    records: None,
                },
            });
        }
    });
}

/// Prepares the thread's context for parsing a record starting at `base`.
pub(crate) fn begin(base: *const u8) {
    CTX.with(|cell| {
        if let Some(tc) = cell.borrow_mut().as_mut() {
            let n = tc.plan.len();
            let ctx = &mut tc.state;
            ctx.slots.clear();
            ctx.slots.resize(n, Slot::Absent);
            ctx.base = base as usize;
            ctx.is_object = false;
            ctx.records = None;
        }
    });
}

/// Swaps the slots of the last parsed record into `out` and returns the record's shape.
pub(crate) fn take(out: &mut Vec<Slot>) -> RecordShape {
    CTX.with(|cell| match cell.borrow_mut().as_mut() {
        Some(tc) => {
            let ctx = &mut tc.state;
            std::mem::swap(out, &mut ctx.slots);
            RecordShape {
                is_object: ctx.is_object,
                records: ctx.records,
            }
        }
        None => RecordShape::default(),
    })
}

/// The shape of the last parsed top-level value.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RecordShape {
    pub(crate) is_object: bool,
    pub(crate) records: Option<(u32, u32)>,
}

/// Marker produced by parsing one record with the thread's plan; the extracted slots are in
/// the thread's context (see [`take`]).
pub(crate) struct Extracted;

impl<'de> Deserialize<'de> for Extracted {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CTX.with(|cell| {
            let mut guard = cell.borrow_mut();
            let ThreadCtx { plan, state } = guard
                .as_mut()
                .ok_or_else(|| de::Error::custom("internal: no extraction plan installed"))?;
            d.deserialize_any(TopVisitor { ctx: state, plan })?;
            Ok(Extracted)
        })
    }
}

/// A map key as raw bytes, borrowed from the input when it has no escapes. Keys are only
/// compared with the plan's (ASCII) keys, so they are not validated as UTF-8: that saves a
/// validation call per key of every record.
struct Key<'de>(Cow<'de, [u8]>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_vec())))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v.as_bytes())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.as_bytes().to_vec())))
            }
        }
        d.deserialize_bytes(KeyVisitor)
    }
}

fn span_of(ctx: &ExtractCtx, raw: &RawValue) -> Slot {
    let text = raw.get();
    let start = (text.as_ptr() as usize).saturating_sub(ctx.base);
    // Records are bounded well below 4 GiB by the reader, so the casts cannot truncate.
    Slot::Raw {
        start: start as u32,
        len: text.len() as u32,
    }
}

fn set_slot(ctx: &mut ExtractCtx, node: NodeId, slot: Slot, overwrite: bool) {
    let current = &mut ctx.slots[node as usize];
    if overwrite || *current == Slot::Absent {
        *current = slot;
    }
}

/// The top-level value: an object is extracted from the root node; anything else is only
/// noted as "not an object" and skipped.
struct TopVisitor<'c, 'p> {
    ctx: &'c mut ExtractCtx,
    plan: &'p FieldPlan,
}

macro_rules! not_object_scalars {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(self.not_object())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(self.not_object())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(self.not_object())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(self.not_object())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(self.not_object())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(self.not_object())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(self.not_object())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(self.not_object())
        }
    };
}

impl TopVisitor<'_, '_> {
    fn not_object(self) {
        self.ctx.is_object = false;
    }
}

impl<'de> Visitor<'de> for TopVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    not_object_scalars!();

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.ctx.is_object = true;
        visit_object(self.ctx, self.plan, map, ROOT, Level::Top)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The top-level object (may be an EventBridge envelope or hold `Records`).
    Top,
    /// The `detail` object of an EventBridge envelope: the event itself.
    Detail,
    /// Any nested object.
    Nested,
}

fn visit_object<'de, A: MapAccess<'de>>(
    ctx: &mut ExtractCtx,
    plan: &FieldPlan,
    mut map: A,
    node: NodeId,
    level: Level,
) -> Result<(), A::Error> {
    // Values inside `detail` win over the envelope's (both have e.g. `resources`).
    let overwrite = level != Level::Top;
    while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
        match plan.child_bytes(node, &key) {
            Some(child) => match plan.capture(child) {
                Capture::Span => {
                    let raw: &'de RawValue = map.next_value()?;
                    let slot = span_of(ctx, raw);
                    set_slot(ctx, child, slot, overwrite);
                }
                Capture::Presence => {
                    map.next_value::<IgnoredAny>()?;
                    set_slot(ctx, child, Slot::Present, overwrite);
                }
                Capture::Descend => map.next_value_seed(DescendSeed {
                    ctx: &mut *ctx,
                    plan,
                    node: child,
                    overwrite,
                })?,
            },
            None if level == Level::Top && *key == *b"detail" => {
                map.next_value_seed(DetailSeed {
                    ctx: &mut *ctx,
                    plan,
                })?;
            }
            None if level == Level::Top && *key == *b"Records" => {
                let raw: &'de RawValue = map.next_value()?;
                if raw.get().starts_with('[')
                    && let Slot::Raw { start, len } = span_of(ctx, raw)
                {
                    ctx.records = Some((start, len));
                }
            }
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(())
}

/// A wanted object on the path to deeper wanted fields.
struct DescendSeed<'c, 'p> {
    ctx: &'c mut ExtractCtx,
    plan: &'p FieldPlan,
    node: NodeId,
    overwrite: bool,
}

impl<'de> DeserializeSeed<'de> for DescendSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl DescendSeed<'_, '_> {
    fn not_object(self) {
        set_slot(self.ctx, self.node, Slot::NotObject, self.overwrite);
    }
}

impl<'de> Visitor<'de> for DescendSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    not_object_scalars!();

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        set_slot(self.ctx, self.node, Slot::Descended, self.overwrite);
        visit_object(self.ctx, self.plan, map, self.node, Level::Nested)
    }
}

/// The `detail` member of an EventBridge envelope.
struct DetailSeed<'c, 'p> {
    ctx: &'c mut ExtractCtx,
    plan: &'p FieldPlan,
}

impl<'de> DeserializeSeed<'de> for DetailSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl DetailSeed<'_, '_> {
    fn not_object(self) {}
}

impl<'de> Visitor<'de> for DetailSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    not_object_scalars!();

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        visit_object(self.ctx, self.plan, map, ROOT, Level::Detail)
    }
}
