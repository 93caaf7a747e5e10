//! A recording, fault-injecting HTTP/1.1 proxy in front of moto.
//!
//! Every request is identified (service and region from the SigV4 credential scope; operation
//! from `X-Amz-Target` for JSON protocols, the `Action=` form field for query protocols, or the
//! method and path for the REST protocols used here) and recorded with its parameters. The
//! operation chosen for a fault gets that protocol's AccessDenied (or throttling) error;
//! everything else is forwarded to moto unchanged, one upstream connection per request.

use std::sync::{Arc, Mutex};

use rdsguard_model::Op;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the requests of one operation.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Every request gets AccessDenied.
    Deny(Op),
    /// Every request gets a throttling error.
    Throttle(Op),
    /// The first request gets a throttling error, the others go through (retry test).
    ThrottleOnce(Op),
    /// Requests whose target or body contains the text get AccessDenied (one account's
    /// AssumeRole, by the account id in the role ARN).
    DenyMatching(Op, &'static str),
}

impl Fault {
    fn op(self) -> Op {
        match self {
            Fault::Deny(op)
            | Fault::Throttle(op)
            | Fault::ThrottleOnce(op)
            | Fault::DenyMatching(op, _) => op,
        }
    }
}

/// One request seen by the proxy.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub service: String,
    pub region: String,
    pub operation: String,
    /// Everything that identifies the call: target/path and body.
    pub params: String,
    /// The proxy answered with an error instead of forwarding.
    pub faulted: bool,
}

pub struct Proxy {
    pub url: String,
    log: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Start a proxy to `upstream` (`http://127.0.0.1:PORT`), applying `fault` if given.
    pub async fn start(upstream: &str, fault: Option<Fault>) -> Proxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let task_log = log.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (log, upstream) = (task_log.clone(), upstream.clone());
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, fault, &log).await;
                });
            }
        });
        Proxy { url, log, task }
    }

    pub fn log(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
}

struct Request {
    head: String,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let start: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(' ')
        .map(str::to_string)
        .collect();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    assert!(
        !headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")),
        "the test proxy does not handle chunked request bodies"
    );
    while body.len() < len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(Request {
        head,
        method: start.first().cloned().unwrap_or_default(),
        target: start.get(1).cloned().unwrap_or_default(),
        headers,
        body,
    }))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[derive(Clone, Copy, PartialEq)]
enum Protocol {
    Query,
    Json,
    RestJson,
}

/// (service, region, operation, protocol) of a request.
fn identify(req: &Request) -> (String, String, String, Protocol) {
    let auth = req.header("authorization").unwrap_or_default();
    let scope: Vec<&str> = auth
        .split("Credential=")
        .nth(1)
        .unwrap_or_default()
        .split([',', ' '])
        .next()
        .unwrap_or_default()
        .split('/')
        .collect();
    let region = scope.get(2).copied().unwrap_or_default().to_string();
    let service = scope.get(3).copied().unwrap_or_default().to_string();
    if let Some(target) = req.header("x-amz-target") {
        let op = target.rsplit('.').next().unwrap_or_default().to_string();
        return (service, region, op, Protocol::Json);
    }
    let body = String::from_utf8_lossy(&req.body);
    if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return (service, region, action.to_string(), Protocol::Query);
    }
    let path = req.target.split('?').next().unwrap_or_default();
    let op = match (service.as_str(), req.method.as_str(), path) {
        ("securityhub", "GET", "/accounts") => "DescribeHub".to_string(),
        ("securityhub", "POST", "/standards/get") => "GetEnabledStandards".to_string(),
        ("backup", "GET", p) if p.starts_with("/resources") => "ListProtectedResources".to_string(),
        (_, m, p) => format!("{m} {p}"),
    };
    (service, region, op, Protocol::RestJson)
}

/// The AccessDenied (or throttling) answer of each protocol, as the real services send it.
fn error_response(service: &str, operation: &str, protocol: Protocol, throttle: bool) -> Vec<u8> {
    if throttle {
        return throttled_response(protocol, service == "ec2");
    }
    let message = format!(
        "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: \
         {service}:{operation}"
    );
    let (status, content_type, extra, body) = match protocol {
        Protocol::Query if service == "ec2" => (
            "403 Forbidden",
            "text/xml;charset=UTF-8",
            String::new(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>\
                 <Code>UnauthorizedOperation</Code><Message>{message}</Message></Error>\
                 </Errors><RequestID>test</RequestID></Response>"
            ),
        ),
        Protocol::Query => (
            "403 Forbidden",
            "text/xml",
            String::new(),
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                 <Message>{message}</Message></Error><RequestId>test</RequestId>\
                 </ErrorResponse>"
            ),
        ),
        Protocol::Json => (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            String::new(),
            format!("{{\"__type\":\"AccessDeniedException\",\"message\":\"{message}\"}}"),
        ),
        Protocol::RestJson => (
            "403 Forbidden",
            "application/json",
            "x-amzn-ErrorType: AccessDeniedException\r\n".to_string(),
            format!("{{\"message\":\"{message}\"}}"),
        ),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}x-amzn-RequestId: test\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn throttled_response(protocol: Protocol, ec2: bool) -> Vec<u8> {
    let (status, content_type, body) = match protocol {
        Protocol::Query if ec2 => (
            "503 Service Unavailable",
            "text/xml;charset=UTF-8",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>\
             <Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>\
             </Error></Errors><RequestID>test</RequestID></Response>"
                .to_string(),
        ),
        Protocol::Query => (
            "400 Bad Request",
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
             <Message>Rate exceeded</Message></Error><RequestId>test</RequestId>\
             </ErrorResponse>"
                .to_string(),
        ),
        Protocol::Json | Protocol::RestJson => (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}".to_string(),
        ),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nx-amzn-RequestId: test\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve(
    mut client: TcpStream,
    upstream: &str,
    fault: Option<Fault>,
    log: &Mutex<Vec<Recorded>>,
) -> std::io::Result<()> {
    let Some(req) = read_request(&mut client).await? else {
        return Ok(());
    };
    let (service, region, operation, protocol) = identify(&req);
    let targeted = fault.is_some_and(|f| {
        let op = f.op();
        op.service == service && op.operation == operation
    });
    let (faulted, throttle) = {
        let mut log_guard = log.lock().unwrap();
        let earlier = log_guard
            .iter()
            .filter(|r| r.service == service && r.operation == operation)
            .count();
        let (faulted, throttle) = match fault {
            Some(Fault::Deny(_)) if targeted => (true, false),
            Some(Fault::Throttle(_)) if targeted => (true, true),
            Some(Fault::ThrottleOnce(_)) if targeted && earlier == 0 => (true, true),
            Some(Fault::DenyMatching(_, text))
                if targeted
                    && (req.target.contains(text)
                        || String::from_utf8_lossy(&req.body).contains(text)) =>
            {
                (true, false)
            }
            _ => (false, false),
        };
        log_guard.push(Recorded {
            service: service.clone(),
            region,
            operation: operation.clone(),
            params: format!(
                "{} {} {}",
                req.method,
                req.target,
                String::from_utf8_lossy(&req.body)
            ),
            faulted,
        });
        (faulted, throttle)
    };
    if faulted {
        client
            .write_all(&error_response(&service, &operation, protocol, throttle))
            .await?;
        return client.shutdown().await;
    }
    // Forward with `Connection: close` so the upstream answer ends at EOF.
    let mut head: Vec<String> = req
        .head
        .split("\r\n")
        .filter(|l| {
            !l.to_ascii_lowercase().starts_with("connection:")
                && !l.to_ascii_lowercase().starts_with("keep-alive:")
        })
        .map(str::to_string)
        .collect();
    head.push("Connection: close".into());
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(head.join("\r\n").as_bytes()).await?;
    up.write_all(b"\r\n\r\n").await?;
    up.write_all(&req.body).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    client.write_all(&response).await?;
    client.shutdown().await
}
