//! Account-level coverage: in an organization scan, an account whose role could not be
//! assumed (or whose collection failed or timed out) has no data at all. This check says so,
//! NOT_ASSESSED with the reason, so such an account is visible in every report instead of
//! silently contributing no findings.

use rdsguard_findings::{ResourceRef, Severity};
use rdsguard_model::{AccountSnapshot, Op, ops};

use crate::engine::{AccountCtx, CheckDef, Emitter, Runner};
use crate::{evidence, msg};

pub static CHECKS: &[&CheckDef] = &[&ACCOUNT_COLLECTED];

/// Account gaps that mean nothing about the account could be collected.
const WHOLE_ACCOUNT_OPS: &[Op] = &[
    ops::STS_ASSUME_ROLE,
    ops::STS_GET_CALLER_IDENTITY,
    ops::RDSGUARD_COLLECT_ACCOUNT,
];

pub static ACCOUNT_COLLECTED: CheckDef = CheckDef {
    id: "account_collected",
    title: "The account could be collected and assessed",
    severity: Severity::High,
    resource_type: "AwsAccount",
    description: "Whether rdsguard could read the account at all: in an organization scan, \
                  the role named by --role-name must be assumable in every account.",
    rationale: "An account that cannot be read has no findings; without this result it would \
                look as clean as a secure one.",
    remediation: "Create the role (default OrganizationAccountAccessRole) in the account with a \
                  trust policy allowing the scanning account (and the external id, if one is \
                  used) and read-only permissions, or exclude the account with --exclude.",
    cis: &[],
    fsbp: &[],
    // Handled by the check itself, to report the gap's full message (the role ARN, the
    // service's words).
    depends_on: &[],
    run: Runner::Account(account_collected),
};

fn account_resource(account: &AccountSnapshot) -> ResourceRef {
    ResourceRef {
        resource_type: "AwsAccount".into(),
        id: account.account_id.clone(),
        arn: None,
        account_id: account.account_id.clone().into(),
        region: None,
    }
}

fn account_collected(ctx: &AccountCtx<'_>, em: &mut Emitter<'_>) {
    let account = ctx.account;
    let blocking = account.gaps.iter().find(|g| {
        g.resource.is_none()
            && WHOLE_ACCOUNT_OPS
                .iter()
                .any(|op| g.service == op.service && g.operation == op.operation)
    });
    if let Some(gap) = blocking {
        em.not_assessed(
            account_resource(account),
            msg!("account not assessed: {}: {}", gap.describe(), gap.message),
        );
        return;
    }
    if account.regions.is_empty() {
        em.not_assessed(
            account_resource(account),
            "account not assessed: no region was collected",
        );
        return;
    }
    em.pass(
        account_resource(account),
        msg!("account collected in {} region(s)", account.regions.len()),
        evidence! {"regions" => account.regions.len()},
    );
}

#[cfg(test)]
mod tests {
    use rdsguard_findings::Status;
    use rdsguard_model::{Gap, GapKind};

    use super::*;
    use crate::testkit::{ACCOUNT, region, run, snapshot, status_of};

    #[test]
    fn collected_account_passes() {
        let f = run(&ACCOUNT_COLLECTED, &snapshot(region(), None));
        assert_eq!(status_of(&f, ACCOUNT), Status::Pass);
    }

    #[test]
    fn unassumable_role_is_not_assessed_with_the_reason() {
        let mut snap = snapshot(region(), None);
        let account = &mut snap.accounts[0];
        account.regions.clear();
        account.gaps.push(
            Gap::new(
                ops::STS_ASSUME_ROLE,
                None,
                GapKind::AccessDenied,
                "cannot assume arn:aws:iam::111122223333:role/OrganizationAccountAccessRole",
            )
            .with_error_code("AccessDenied"),
        );
        let f = run(&ACCOUNT_COLLECTED, &snap);
        assert_eq!(status_of(&f, ACCOUNT), Status::NotAssessed);
        assert!(f[0].message.contains("sts:AssumeRole access denied"));
        assert!(f[0].message.contains("role/OrganizationAccountAccessRole"));
    }

    #[test]
    fn account_without_regions_is_not_assessed() {
        let mut snap = snapshot(region(), None);
        snap.accounts[0].regions.clear();
        let f = run(&ACCOUNT_COLLECTED, &snap);
        assert_eq!(status_of(&f, ACCOUNT), Status::NotAssessed);
    }
}
