//! Prints the OpenAPI document the API serves: `cargo xtask openapi` writes it to
//! docs/openapi.json.

fn main() {
    println!("{}", plant_texts_http::ops::docs::openapi_json());
}
