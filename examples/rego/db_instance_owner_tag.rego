# Custom rdsguard check: every DB instance carries an `owner` tag, so that someone answers
# for it. Run with: rdsguard audit --rules examples/rego
package rdsguard.custom.db_instance_owner_tag

import data.rdsguard.lib
import rego.v1

metadata := {
	"id": "custom_db_instance_owner_tag",
	"title": "DB instances carry an owner tag",
	"severity": "medium",
	"resource_type": "AwsRdsDbInstance",
	"description": "Checks that every DB instance has a tag named `owner` (any case) with a non-empty value.",
	"rationale": "Findings on a database nobody owns are not fixed; the owner tag routes them.",
	"remediation": "Tag the instance: aws rds add-tags-to-resource --resource-name <arn> --tags Key=owner,Value=<team>.",
	"depends_on": ["rds:DescribeDBInstances"],
}

owner(tags) := value if {
	some key, value in tags
	lower(key) == "owner"
	trim_space(value) != ""
}

results contains result if {
	some x in lib.db_instances
	value := owner(x.db.tags)
	result := {
		"status": "PASS",
		"resource": lib.instance_resource(x),
		"message": sprintf("DB instance %s is owned by %s", [x.db.db_instance_identifier, value]),
		"evidence": {"owner": value},
	}
}

results contains result if {
	some x in lib.db_instances
	not owner(x.db.tags)
	result := {
		"status": "FAIL",
		"resource": lib.instance_resource(x),
		"message": sprintf("DB instance %s has no owner tag", [x.db.db_instance_identifier]),
		"evidence": {"tag_keys": object.keys(x.db.tags)},
	}
}
