//! Twilio's webhooks: inbound texts (`/api/v2/webhooks/twilio/sms`) and delivery reports
//! (`/api/v2/webhooks/twilio/status`), both signed by Twilio.

pub mod twilio;
mod twiml;

use actix_web::web;

use crate::app::resource;

/// Registers the webhook routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            resource("/api/v2/webhooks/twilio/sms", "POST")
                .route(web::post().to(twilio::inbound_sms)),
        )
        .service(
            resource("/api/v2/webhooks/twilio/status", "POST")
                .route(web::post().to(twilio::delivery_status)),
        );
}
