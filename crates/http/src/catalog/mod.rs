//! The public catalog routes: `/api/v2/catalog` and `/api/v2/personalities`, cacheable by
//! browsers and proxies (ETag, `Cache-Control: public`).

pub mod documents;
mod public_cache;
pub mod routes;

pub use public_cache::RenderedAnswers;
