# Custom rdsguard check: no PostgreSQL below major version 14 (RDS instances and Aurora
# PostgreSQL clusters). Other engines are NOT_APPLICABLE.
package rdsguard.custom.postgres_min_version

import data.rdsguard.lib
import rego.v1

minimum_major := 14

metadata := {
	"id": "custom_postgres_min_major_version",
	"title": "PostgreSQL databases run major version 14 or later",
	"severity": "high",
	"resource_type": "AwsRdsDbInstance",
	"description": "Checks that RDS for PostgreSQL instances (outside clusters) and Aurora PostgreSQL clusters run PostgreSQL 14 or later.",
	"rationale": "Older major versions leave community support and RDS standard support; security fixes stop.",
	"remediation": "Plan a major version upgrade (test it on a snapshot restore first): aws rds modify-db-instance --engine-version 16.4 --allow-major-version-upgrade.",
	"depends_on": ["rds:DescribeDBInstances", "rds:DescribeDBClusters"],
}

# Instances that are not cluster members (members follow their cluster).
standalone contains x if {
	some x in lib.db_instances
	not lib.is_cluster_member(x.db)
}

results contains result if {
	some x in standalone
	x.db.engine == "postgres"
	major := lib.major_version(x.db.engine_version)
	result := {
		"status": status(major),
		"resource": lib.instance_resource(x),
		"message": sprintf("DB instance %s runs PostgreSQL %s", [x.db.db_instance_identifier, x.db.engine_version]),
		"evidence": {"engine": x.db.engine, "engine_version": x.db.engine_version, "minimum_major": minimum_major},
	}
}

results contains result if {
	some x in standalone
	x.db.engine != "postgres"
	result := {
		"status": "NOT_APPLICABLE",
		"resource": lib.instance_resource(x),
		"message": sprintf("DB instance %s runs %s, not PostgreSQL", [x.db.db_instance_identifier, x.db.engine]),
	}
}

results contains result if {
	some x in lib.db_clusters
	x.cluster.engine == "aurora-postgresql"
	major := lib.major_version(x.cluster.engine_version)
	result := {
		"status": status(major),
		"resource": lib.cluster_resource(x),
		"message": sprintf("DB cluster %s runs Aurora PostgreSQL %s", [x.cluster.db_cluster_identifier, x.cluster.engine_version]),
		"evidence": {"engine": x.cluster.engine, "engine_version": x.cluster.engine_version, "minimum_major": minimum_major},
	}
}

status(major) := "FAIL" if major < minimum_major

status(major) := "PASS" if major >= minimum_major
