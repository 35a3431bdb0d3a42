//! `[budget.NAME]`'s `scope` and `expected_instances`, read from a file.

use super::Config;
use crate::registry::retry_budget;
use crate::retry::BudgetConfig;
use crate::Scope;

#[test]
fn a_config_file_sets_a_budgets_scope_and_refuses_a_bad_one() {
    let text = "[budget.unit-file]\ncapacity = 30\nscope = \"cluster\"\nexpected_instances = 3\n";
    let config = Config::parse(text).unwrap();
    assert_eq!(
        config.get::<BudgetConfig>("budget", "unit-file"),
        Some(&BudgetConfig {
            capacity: 30,
            scope: Scope::Cluster,
            expected_instances: 3,
            ..Default::default()
        })
    );
    config.apply().unwrap();
    let snapshot = retry_budget("unit-file").snapshot();
    assert_eq!(
        (snapshot.scope, snapshot.expected_instances),
        (Scope::Cluster, 3)
    );
    let err = Config::parse("[budget.unit-file]\nscope = \"clustr\"\n").unwrap_err();
    assert_eq!(
        (err.key(), err.line()),
        (Some("budget.unit-file.scope"), Some(2))
    );
    assert!(err.message().contains("clustr"), "{err}");
    let err = Config::parse("[budget.unit-file]\nexpected_instances = 0\n").unwrap_err();
    assert_eq!(
        (err.key(), err.value()),
        (Some("budget.unit-file.expected_instances"), Some("0"))
    );
}
