//! A read-only view of one CloudTrail record: the hot fields every detection reads (typed,
//! borrowed from the read buffer) and lazy access to any other field by path.
//!
//! Values are read from the spans that extraction recorded; a subtree is parsed into a
//! `serde_json::Value` only when a detection or a Sigma rule asks for something inside it,
//! which happens for a small minority of records.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::Value;

use crate::extract::{FieldPlan, NodeId, ROOT, Slot};

/// Plan nodes of the fields read for every record.
#[derive(Debug, Clone)]
pub(crate) struct HotFields {
    pub(crate) event_name: NodeId,
    pub(crate) event_source: NodeId,
    pub(crate) event_time: NodeId,
    pub(crate) event_id: NodeId,
    pub(crate) event_type: NodeId,
    pub(crate) error_code: NodeId,
    pub(crate) aws_region: NodeId,
    pub(crate) source_ip: NodeId,
    pub(crate) user_agent: NodeId,
    pub(crate) recipient_account: NodeId,
    pub(crate) ui_type: NodeId,
    pub(crate) ui_arn: NodeId,
    pub(crate) ui_principal_id: NodeId,
    pub(crate) ui_account_id: NodeId,
    pub(crate) ui_invoked_by: NodeId,
    pub(crate) request_parameters: NodeId,
    pub(crate) response_elements: NodeId,
    pub(crate) additional_event_data: NodeId,
    pub(crate) digest_start_time: NodeId,
    pub(crate) event_version: NodeId,
    /// The `userIdentity` object itself (descended into, never captured whole).
    pub(crate) user_identity: NodeId,
}

impl HotFields {
    pub(crate) fn register(plan: &mut FieldPlan) -> HotFields {
        HotFields {
            event_name: plan.register(&["eventName"]),
            event_source: plan.register(&["eventSource"]),
            event_time: plan.register(&["eventTime"]),
            event_id: plan.register(&["eventID"]),
            event_type: plan.register(&["eventType"]),
            error_code: plan.register(&["errorCode"]),
            aws_region: plan.register(&["awsRegion"]),
            source_ip: plan.register(&["sourceIPAddress"]),
            user_agent: plan.register(&["userAgent"]),
            recipient_account: plan.register(&["recipientAccountId"]),
            ui_type: plan.register(&["userIdentity", "type"]),
            ui_arn: plan.register(&["userIdentity", "arn"]),
            ui_principal_id: plan.register(&["userIdentity", "principalId"]),
            ui_account_id: plan.register(&["userIdentity", "accountId"]),
            ui_invoked_by: plan.register(&["userIdentity", "invokedBy"]),
            request_parameters: plan.register_lazy(&["requestParameters"]),
            response_elements: plan.register_lazy(&["responseElements"]),
            additional_event_data: plan.register_lazy(&["additionalEventData"]),
            digest_start_time: plan.register(&["digestStartTime"]),
            event_version: plan.register(&["eventVersion"]),
            user_identity: plan.child(ROOT, "userIdentity").unwrap_or(ROOT),
        }
    }
}

/// A field path resolved against the plan: the node of each segment.
#[derive(Debug, Clone)]
pub(crate) struct FieldPath {
    pub(crate) segments: Vec<String>,
    pub(crate) nodes: Vec<NodeId>,
}

impl FieldPath {
    /// Registers `dotted` in the plan and remembers the node chain.
    pub(crate) fn register(plan: &mut FieldPlan, dotted: &str) -> FieldPath {
        let segments: Vec<String> = dotted.split('.').map(str::to_string).collect();
        let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
        plan.register(&refs);
        let mut nodes = Vec::with_capacity(segments.len());
        let mut node = ROOT;
        for seg in &segments {
            // Just registered, so every child exists; fall back to ROOT defensively.
            node = plan.child(node, seg).unwrap_or(ROOT);
            nodes.push(node);
        }
        FieldPath { segments, nodes }
    }
}

/// The value found at a path.
#[derive(Debug, Clone)]
pub(crate) enum Looked<'v> {
    Absent,
    /// Raw JSON text of the value (a string still quoted and escaped).
    Token(&'v str),
    Value(Cow<'v, Value>),
}

/// One record, as the detections see it.
pub(crate) struct EventView<'a> {
    bytes: &'a [u8],
    slots: &'a [Slot],
    hot: &'a HotFields,
    full: OnceCell<Option<Value>>,
    /// Decoded once: read by the summary, the dispatch and every rule.
    name: OnceCell<Option<Cow<'a, str>>>,
    source: OnceCell<Option<Cow<'a, str>>>,
    error: OnceCell<Option<Cow<'a, str>>>,
    identity_type: OnceCell<Option<Cow<'a, str>>>,
}

impl<'a> EventView<'a> {
    pub(crate) fn new(bytes: &'a [u8], slots: &'a [Slot], hot: &'a HotFields) -> Self {
        EventView {
            bytes,
            slots,
            hot,
            full: OnceCell::new(),
            name: OnceCell::new(),
            source: OnceCell::new(),
            error: OnceCell::new(),
            identity_type: OnceCell::new(),
        }
    }

    /// The record's whole JSON text.
    pub(crate) fn text(&self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes).ok()
    }

    /// Raw JSON text at a node, when extraction recorded it.
    pub(crate) fn token(&self, node: NodeId) -> Option<&'a str> {
        match self.slots.get(node as usize)? {
            Slot::Raw { start, len } => {
                let start = *start as usize;
                let bytes = self.bytes.get(start..start + *len as usize)?;
                std::str::from_utf8(bytes).ok()
            }
            _ => None,
        }
    }

    /// A hot field as text (strings decoded, numbers and booleans as written); None when
    /// absent, null, empty or not a scalar.
    pub(crate) fn text_of(&self, node: NodeId) -> Option<Cow<'a, str>> {
        let text = scalar_text(self.token(node)?)?;
        (!text.is_empty()).then_some(text)
    }

    pub(crate) fn event_name(&self) -> Option<Cow<'a, str>> {
        self.name
            .get_or_init(|| self.text_of(self.hot.event_name))
            .clone()
    }
    pub(crate) fn event_source(&self) -> Option<Cow<'a, str>> {
        self.source
            .get_or_init(|| self.text_of(self.hot.event_source))
            .clone()
    }
    pub(crate) fn event_time(&self) -> Option<Cow<'a, str>> {
        self.text_of(self.hot.event_time)
    }
    pub(crate) fn event_id(&self) -> Option<Cow<'a, str>> {
        self.text_of(self.hot.event_id)
    }
    pub(crate) fn event_type(&self) -> Option<Cow<'a, str>> {
        self.text_of(self.hot.event_type)
    }
    pub(crate) fn error_code(&self) -> Option<Cow<'a, str>> {
        self.error
            .get_or_init(|| self.text_of(self.hot.error_code))
            .clone()
    }
    pub(crate) fn region(&self) -> Option<Cow<'a, str>> {
        self.text_of(self.hot.aws_region)
    }
    pub(crate) fn source_ip(&self) -> Option<Cow<'a, str>> {
        self.text_of(self.hot.source_ip)
    }
    pub(crate) fn user_agent(&self) -> Option<Cow<'a, str>> {
        self.text_of(self.hot.user_agent)
    }
    pub(crate) fn recipient_account(&self) -> Option<Cow<'a, str>> {
        self.text_of(self.hot.recipient_account)
    }
    pub(crate) fn identity_type(&self) -> Option<Cow<'a, str>> {
        self.identity_type
            .get_or_init(|| self.text_of(self.hot.ui_type))
            .clone()
    }
    pub(crate) fn identity_arn(&self) -> Option<Cow<'a, str>> {
        self.text_of(self.hot.ui_arn)
    }
    pub(crate) fn identity_account(&self) -> Option<Cow<'a, str>> {
        self.text_of(self.hot.ui_account_id)
    }
    pub(crate) fn invoked_by(&self) -> Option<Cow<'a, str>> {
        self.text_of(self.hot.ui_invoked_by)
    }

    /// Who acted: the identity's ARN, else its principal id, else its type, else the AWS
    /// service that invoked the call.
    pub(crate) fn principal(&self) -> Cow<'a, str> {
        self.identity_arn()
            .or_else(|| self.text_of(self.hot.ui_principal_id))
            .or_else(|| self.identity_type())
            .or_else(|| self.invoked_by())
            .unwrap_or(Cow::Borrowed("unknown"))
    }

    /// True when this looks like a CloudTrail event: it names its API call or service, and
    /// has at least one other field every CloudTrail event has (so that, say, a list of
    /// event names with labels is not mistaken for events).
    pub(crate) fn is_cloudtrail(&self) -> bool {
        let present =
            |node: NodeId| !matches!(self.slots.get(node as usize), None | Some(Slot::Absent));
        let h = self.hot;
        (present(h.event_name) || present(h.event_source))
            && [
                h.event_time,
                h.event_version,
                h.user_identity,
                h.aws_region,
                h.request_parameters,
                h.response_elements,
                h.recipient_account,
                h.event_type,
            ]
            .into_iter()
            .any(|n| n != ROOT && present(n))
    }

    pub(crate) fn is_digest(&self) -> bool {
        self.token(self.hot.digest_start_time).is_some()
    }

    /// The call failed (a call with an error code did not happen).
    pub(crate) fn failed(&self) -> bool {
        self.error_code().is_some()
    }

    /// `requestParameters` (parsed with the whole record on first use).
    pub(crate) fn request(&self) -> Option<&Value> {
        self.member(self.hot.request_parameters, "requestParameters")
    }

    /// `responseElements` (parsed with the whole record on first use).
    pub(crate) fn response(&self) -> Option<&Value> {
        self.member(self.hot.response_elements, "responseElements")
    }

    /// `additionalEventData.<key>` as text.
    pub(crate) fn additional_text(&self, key: &str) -> Option<String> {
        let data = self.member(self.hot.additional_event_data, "additionalEventData")?;
        value_text(data.get(key)?).map(Cow::into_owned)
    }

    /// A top-level member of the record, skipping the parse when extraction saw it absent.
    fn member(&self, node: NodeId, key: &str) -> Option<&Value> {
        if matches!(self.slots.get(node as usize), None | Some(Slot::Absent)) {
            return None;
        }
        self.full()?.get(key).filter(|v| !v.is_null())
    }

    /// The whole record, parsed on first use (keywords, and paths extraction could not
    /// follow).
    pub(crate) fn full(&self) -> Option<&Value> {
        self.full
            .get_or_init(|| {
                let text = self.text()?;
                let value: Value = serde_json::from_str(text).ok()?;
                // An EventBridge envelope: the event is its `detail`.
                match value {
                    Value::Object(mut map) if map.get("detail").is_some_and(Value::is_object) => {
                        map.remove("detail")
                    }
                    other => Some(other),
                }
            })
            .as_ref()
    }

    /// The value at `path`.
    pub(crate) fn lookup(&self, path: &FieldPath) -> Looked<'_> {
        for (depth, node) in path.nodes.iter().enumerate() {
            let last = depth + 1 == path.nodes.len();
            match self.slots.get(*node as usize).copied() {
                None | Some(Slot::Absent) => return Looked::Absent,
                Some(Slot::Descended) => {
                    if last {
                        // The object itself was wanted by a longer path only; read it whole.
                        return self.lookup_in_full(path);
                    }
                }
                Some(Slot::NotObject | Slot::Present) => return self.lookup_in_full(path),
                Some(Slot::Raw { .. }) => {
                    let Some(token) = self.token(*node) else {
                        return Looked::Absent;
                    };
                    if last {
                        return Looked::Token(token);
                    }
                    let rest = &path.segments[depth + 1..];
                    return match serde_json::from_str::<Value>(token) {
                        Ok(v) => navigate_cow(Cow::Owned(v), rest),
                        Err(_) => Looked::Absent,
                    };
                }
            }
        }
        Looked::Absent
    }

    fn lookup_in_full(&self, path: &FieldPath) -> Looked<'_> {
        match self.full() {
            Some(v) => navigate_cow(Cow::Borrowed(v), &path.segments),
            None => Looked::Absent,
        }
    }
}

/// Follows `path` inside `value`; arrays on the way are searched element by element (the
/// result is then an array of what was found).
pub(crate) fn navigate<'v>(value: &'v Value, path: &[String]) -> Option<Cow<'v, Value>> {
    let Some((first, rest)) = path.split_first() else {
        return Some(Cow::Borrowed(value));
    };
    match value {
        Value::Object(map) => navigate(map.get(first.as_str())?, rest),
        Value::Array(items) => {
            let found: Vec<Value> = items
                .iter()
                .filter_map(|item| navigate(item, path).map(Cow::into_owned))
                .collect();
            (!found.is_empty()).then_some(Cow::Owned(Value::Array(found)))
        }
        _ => None,
    }
}

fn navigate_cow<'v>(value: Cow<'v, Value>, path: &[String]) -> Looked<'v> {
    let found = match value {
        Cow::Borrowed(v) => navigate(v, path),
        Cow::Owned(v) => navigate(&v, path).map(|c| Cow::Owned(c.into_owned())),
    };
    match found {
        Some(v) => Looked::Value(v),
        None => Looked::Absent,
    }
}

/// Decodes a raw JSON token to text: strings unescaped, numbers and booleans as written;
/// None for null, objects and arrays.
pub(crate) fn scalar_text(token: &str) -> Option<Cow<'_, str>> {
    let bytes = token.as_bytes();
    match bytes.first()? {
        b'"' => {
            let inner = token.get(1..token.len().saturating_sub(1))?;
            if inner.as_bytes().contains(&b'\\') {
                serde_json::from_str::<String>(token).ok().map(Cow::Owned)
            } else {
                Some(Cow::Borrowed(inner))
            }
        }
        b'n' | b'{' | b'[' => None,
        _ => Some(Cow::Borrowed(token)),
    }
}

/// Text of a scalar JSON value (None for null, objects and arrays).
pub(crate) fn value_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Is this JSON value `true` (or the string "true", as some tools write it)?
pub(crate) fn is_true(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Is this JSON value `false` (or the string "false")?
pub(crate) fn is_false(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => !*b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

/// A JSON number or numeric string as an integer.
pub(crate) fn as_i64(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON string (or number) as text.
pub(crate) fn as_text(v: Option<&Value>) -> Option<String> {
    v.and_then(value_text)
        .map(Cow::into_owned)
        .filter(|s| !s.is_empty())
}
