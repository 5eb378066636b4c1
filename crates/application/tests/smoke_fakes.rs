//! The fakes compose into every use case.

use plant_texts_application::testing::Fakes;

#[tokio::test]
async fn the_fakes_compose_into_a_healthy_service() {
    let use_cases = Fakes::new().use_cases();
    let report = use_cases.health.run().await;
    assert!(report.critical_dependencies_up(), "{report:?}");
}
