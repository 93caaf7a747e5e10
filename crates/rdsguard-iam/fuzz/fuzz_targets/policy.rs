//! Any bytes as a policy document: parsed and compiled, or an error with a location; a
//! compiled policy is then evaluated (as identity, resource, boundary, SCP and RCP) on a
//! fixed request, concretely and symbolically. Never a panic, never a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdsguard_iam::compile::{CompiledPolicy, PolicyKind};
use rdsguard_iam::context::{RequestAction, RequestContext, RequestPrincipal, RequestResource};
use rdsguard_iam::eval::{PolicySet, Request, evaluate, evaluate_static};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::PermissionBoundary,
        PolicyKind::Scp,
        PolicyKind::Rcp,
    ] {
        let policy = match CompiledPolicy::from_json("fuzz", kind, text) {
            Ok(p) => p,
            Err(e) => {
                // Errors name where they are.
                assert!(!e.to_string().is_empty());
                continue;
            }
        };
        let (Ok(principal), Ok(action), Ok(resource)) = (
            RequestPrincipal::parse("arn:aws:iam::111122223333:user/alice"),
            RequestAction::parse("rds:DeleteDBInstance"),
            RequestResource::parse("arn:aws:rds:us-east-1:111122223333:db:orders", None),
        ) else {
            return;
        };
        let mut concrete = RequestContext::new();
        concrete.insert_single("aws:SourceIp", "203.0.113.9");
        concrete.insert_single("aws:username", "alice");
        let partial = RequestContext::partial(Vec::<String>::new(), Vec::<String>::new());
        let set = match kind {
            PolicyKind::Identity => PolicySet {
                identity: vec![&policy],
                ..PolicySet::default()
            },
            PolicyKind::Resource => PolicySet {
                resource: Some(&policy),
                ..PolicySet::default()
            },
            PolicyKind::PermissionBoundary => PolicySet {
                permission_boundaries: vec![&policy],
                ..PolicySet::default()
            },
            PolicyKind::Scp => PolicySet {
                scp_levels: vec![vec![&policy]],
                ..PolicySet::default()
            },
            _ => PolicySet {
                rcp_levels: vec![vec![&policy]],
                ..PolicySet::default()
            },
        };
        for ctx in [&concrete, &partial] {
            let req = Request {
                principal: &principal,
                action: &action,
                resource: &resource,
                context: ctx,
            };
            if ctx.is_partial() {
                let _ = evaluate_static(&set, &req, None);
            } else {
                let _ = evaluate(&set, &req);
            }
        }
    }
});
