//! Every AWS request goes through here: a shared semaphore bounds the requests in flight across
//! all regions and services, every request (and every page) is counted, and every failure is
//! turned into a [`Gap`] with a kind the user can act on.

use std::error::Error as StdError;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rdsguard_model::{Gap, GapKind, Op};
use tokio::sync::Semaphore;

use crate::Progress;

/// Longest gap message kept; AWS messages are short, transport errors can be long chains.
const MAX_MESSAGE_LEN: usize = 300;

/// Shared state of one collection run.
pub(crate) struct Ctx<'a> {
    permits: Semaphore,
    /// Logical requests sent (one per page), counted by the collector.
    pub api_calls: AtomicU64,
    pub progress: &'a dyn Progress,
}

impl<'a> Ctx<'a> {
    pub fn new(concurrency: usize, progress: &'a dyn Progress) -> Self {
        Ctx {
            permits: Semaphore::new(concurrency),
            api_calls: AtomicU64::new(0),
            progress,
        }
    }

    /// One request, with a permit held while it is in flight (retries included).
    pub async fn call<T, E, F>(&self, op: Op, scope: Scope<'_>, request: F) -> Result<T, Gap>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        // A closed semaphore cannot happen (it is never closed); a failed acquire would only
        // lose the bound, never the call.
        let _permit = self.permits.acquire().await.ok();
        self.api_calls.fetch_add(1, Ordering::Relaxed);
        request.await.map_err(|e| gap_from_error(op, scope, &e))
    }

    /// Every page of a paginated request, in order. A failure on any page fails the whole
    /// listing: a partial list would pass for a complete one.
    pub async fn pages<T, E>(
        &self,
        op: Op,
        scope: Scope<'_>,
        mut stream: PaginationStream<Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<Vec<T>, Gap>
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let mut out = Vec::new();
        loop {
            let page = {
                let _permit = self.permits.acquire().await.ok();
                self.api_calls.fetch_add(1, Ordering::Relaxed);
                stream.next().await
            };
            match page {
                None => {
                    // The stream ended without sending a request for this round.
                    self.api_calls.fetch_sub(1, Ordering::Relaxed);
                    return Ok(out);
                }
                Some(Ok(p)) => out.push(p),
                Some(Err(e)) => return Err(gap_from_error(op, scope, &e)),
            }
        }
    }
}

impl Ctx<'_> {
    /// A whole regional listing mapped to model items; on failure the gap is recorded and the
    /// list is empty (the gap, not the emptiness, is what analysis looks at).
    pub async fn list<P, E, T, I>(
        &self,
        op: Op,
        region: &str,
        gaps: &Gaps,
        stream: PaginationStream<Result<P, SdkError<E, HttpResponse>>>,
        map: impl FnMut(&P) -> I,
    ) -> Vec<T>
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        I: IntoIterator<Item = T>,
    {
        let pages = self.pages(op, Scope::region(region), stream).await;
        gaps.ok(pages)
            .unwrap_or_default()
            .iter()
            .flat_map(map)
            .collect()
    }
}

/// Where a call was made and, for per-item calls, about which resource.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'s> {
    pub region: Option<&'s str>,
    pub resource: Option<&'s str>,
}

impl<'s> Scope<'s> {
    pub fn region(region: &'s str) -> Self {
        Scope {
            region: Some(region),
            resource: None,
        }
    }

    pub fn global() -> Self {
        Scope {
            region: None,
            resource: None,
        }
    }

    pub fn item(region: &'s str, resource: &'s str) -> Self {
        Scope {
            region: Some(region),
            resource: Some(resource),
        }
    }
}

/// Gaps of one region (or of the account), filled from concurrent futures.
#[derive(Default)]
pub(crate) struct Gaps(Mutex<Vec<Gap>>);

impl Gaps {
    pub fn push(&self, gap: Gap) {
        // A poisoned lock only means another future panicked; keep the data.
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(gap);
    }

    /// `Some(value)` on success; on failure records the gap and gives `None`.
    pub fn ok<T>(&self, result: Result<T, Gap>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(g) => {
                self.push(g);
                None
            }
        }
    }

    /// The gaps, in a stable order.
    pub fn into_sorted(self) -> Vec<Gap> {
        let mut v = self.0.into_inner().unwrap_or_else(|p| p.into_inner());
        v.sort_by(|a, b| {
            (&a.service, &a.operation, &a.region, &a.resource).cmp(&(
                &b.service,
                &b.operation,
                &b.region,
                &b.resource,
            ))
        });
        v
    }
}

/// Classify an SDK failure into a gap.
pub(crate) fn gap_from_error<E>(op: Op, scope: Scope<'_>, err: &SdkError<E, HttpResponse>) -> Gap
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let code = err.code().map(str::to_string);
    let status = err.raw_response().map(|r| r.status().as_u16());
    let html = err.raw_response().is_some_and(is_html);
    let kind = classify(code.as_deref(), status, html, err);
    let message = match (err.message(), &code) {
        (Some(m), _) if !m.trim().is_empty() => m.to_string(),
        (_, Some(c)) => c.clone(),
        _ => match (status, html) {
            (Some(s), true) => format!(
                "HTTP {s} with a non-AWS (HTML) body: the endpoint does not implement this operation"
            ),
            (Some(s), false) => format!("HTTP {s}: {}", DisplayErrorContext(err)),
            (None, _) => DisplayErrorContext(err).to_string(),
        },
    };
    let mut gap = Gap::new(op, scope.region, kind, one_line(&message));
    if let Some(r) = scope.resource {
        gap = gap.with_resource(r);
    }
    if let Some(c) = code {
        gap = gap.with_error_code(c);
    }
    gap
}

fn classify<E, R>(
    code: Option<&str>,
    status: Option<u16>,
    html: bool,
    err: &SdkError<E, R>,
) -> GapKind {
    if let Some(code) = code {
        return classify_code(code).unwrap_or(match status {
            Some(403) => GapKind::AccessDenied,
            Some(429) => GapKind::Throttled,
            _ => GapKind::Error,
        });
    }
    match (err, status) {
        (_, Some(403)) => GapKind::AccessDenied,
        (_, Some(429)) => GapKind::Throttled,
        // An emulator or a partition without the operation: an HTML error page, or a route
        // that does not exist.
        (_, Some(404 | 405 | 501)) => GapKind::Unsupported,
        (_, Some(500)) if html => GapKind::Unsupported,
        _ => GapKind::Error,
    }
}

/// Known AWS error codes, across the services the collector calls.
pub(crate) fn classify_code(code: &str) -> Option<GapKind> {
    Some(match code {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnauthorizedAccess"
        | "UnauthorizedException"
        | "AuthorizationError"
        | "AuthorizationErrorException"
        | "NotAuthorized"
        | "Forbidden" => GapKind::AccessDenied,
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestLimitExceeded"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "TooManyRequestsException"
        | "LimitExceededException"
        | "SlowDown"
        | "PriorRequestNotComplete"
        | "EC2ThrottledException" => GapKind::Throttled,
        // The credentials were already accepted by STS in the home region, so a token or
        // signature rejected in another region means the region is not enabled.
        "OptInRequired"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "AuthFailure" => GapKind::RegionDisabled,
        "InvalidAccessException" | "SubscriptionRequiredException" => GapKind::NotEnabled,
        "InvalidAction"
        | "UnknownOperationException"
        | "UnsupportedOperation"
        | "UnsupportedOperationException"
        | "NotImplemented"
        | "InvalidParameterCombination.NotSupported" => GapKind::Unsupported,
        _ => return None,
    })
}

fn is_html(r: &HttpResponse) -> bool {
    r.headers()
        .get("content-type")
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("text/html"))
}

/// Collapse whitespace and cap the length so a gap message stays one readable line.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_MESSAGE_LEN));
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > MAX_MESSAGE_LEN {
        out = out.chars().take(MAX_MESSAGE_LEN - 1).collect();
        out.push('…');
    }
    out
}

/// Never retry an HTML error page answered with 404/405/500/501: it is an endpoint that does
/// not implement the operation (an emulator), and retrying only adds backoff. Real AWS API
/// errors are XML or JSON; HTML 502/503/504 from a load balancer are still retried.
#[derive(Debug, Default)]
pub(crate) struct NotImplementedClassifier;

impl ClassifyRetry for NotImplementedClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.response() {
            Some(r) if matches!(r.status().as_u16(), 404 | 405 | 500 | 501) && is_html(r) => {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "rdsguard: HTML error pages are not retried"
    }
}

/// Counts HTTP attempts (retries included), to report what the collector really sent.
#[derive(Debug)]
pub(crate) struct AttemptCounter(pub std::sync::Arc<AtomicU64>);

impl Intercept for AttemptCounter {
    fn name(&self) -> &'static str {
        "rdsguard: attempt counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_actionable_kinds() {
        assert_eq!(classify_code("AccessDenied"), Some(GapKind::AccessDenied));
        assert_eq!(
            classify_code("UnauthorizedOperation"),
            Some(GapKind::AccessDenied)
        );
        assert_eq!(
            classify_code("AccessDeniedException"),
            Some(GapKind::AccessDenied)
        );
        assert_eq!(classify_code("Throttling"), Some(GapKind::Throttled));
        assert_eq!(
            classify_code("RequestLimitExceeded"),
            Some(GapKind::Throttled)
        );
        assert_eq!(
            classify_code("OptInRequired"),
            Some(GapKind::RegionDisabled)
        );
        assert_eq!(
            classify_code("InvalidAccessException"),
            Some(GapKind::NotEnabled)
        );
        assert_eq!(classify_code("InvalidAction"), Some(GapKind::Unsupported));
        assert_eq!(classify_code("DBParameterGroupNotFound"), None);
    }

    fn response(status: u16, content_type: &str, body: &str) -> HttpResponse {
        let mut r = HttpResponse::new(
            status.try_into().unwrap(),
            aws_smithy_types::body::SdkBody::from(body.to_string()),
        );
        r.headers_mut()
            .insert("content-type", content_type.to_string());
        r
    }

    type RdsError = aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;

    #[test]
    fn service_errors_keep_code_message_and_resource() {
        let meta = aws_smithy_types::error::ErrorMetadata::builder()
            .code("AccessDenied")
            .message("User: x is not authorized to perform: rds:DescribeDBInstances\n")
            .build();
        let err: SdkError<RdsError, HttpResponse> = SdkError::service_error(
            RdsError::generic(meta),
            response(403, "text/xml", "<ErrorResponse/>"),
        );
        let gap = gap_from_error(
            rdsguard_model::ops::RDS_DESCRIBE_DB_INSTANCES,
            Scope::item("eu-west-1", "db-1"),
            &err,
        );
        assert_eq!(gap.kind, GapKind::AccessDenied);
        assert_eq!(gap.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(gap.region.as_deref(), Some("eu-west-1"));
        assert_eq!(gap.resource.as_deref(), Some("db-1"));
        assert_eq!(
            gap.message,
            "User: x is not authorized to perform: rds:DescribeDBInstances"
        );
    }

    #[test]
    fn html_error_pages_are_unsupported_and_other_failures_errors() {
        let html: SdkError<RdsError, HttpResponse> = SdkError::response_error(
            "no root element",
            response(500, "text/html; charset=utf-8", "<!doctype html>"),
        );
        let gap = gap_from_error(
            rdsguard_model::ops::RDS_DESCRIBE_DB_INSTANCES,
            Scope::region("us-east-1"),
            &html,
        );
        assert_eq!(gap.kind, GapKind::Unsupported);
        assert!(gap.error_code.is_none() && gap.resource.is_none());

        let xml500: SdkError<RdsError, HttpResponse> =
            SdkError::response_error("bad xml", response(500, "text/xml", "<oops"));
        let gap = gap_from_error(
            rdsguard_model::ops::RDS_DESCRIBE_DB_INSTANCES,
            Scope::region("us-east-1"),
            &xml500,
        );
        assert_eq!(gap.kind, GapKind::Error);

        let forbidden: SdkError<RdsError, HttpResponse> =
            SdkError::response_error("unparsable", response(403, "text/plain", "nope"));
        let gap = gap_from_error(
            rdsguard_model::ops::RDS_DESCRIBE_DB_INSTANCES,
            Scope::global(),
            &forbidden,
        );
        assert_eq!(gap.kind, GapKind::AccessDenied);
    }

    #[test]
    fn messages_are_one_bounded_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
        let long = "x ".repeat(400);
        let line = one_line(&long);
        assert_eq!(line.chars().count(), MAX_MESSAGE_LEN);
        assert!(line.ends_with('…'));
    }
}
