//! Twilio's webhooks: inbound texts (`/api/v2/webhooks/twilio/sms`) and delivery reports
//! (`/api/v2/webhooks/twilio/status`), both signed by Twilio.

pub mod twilio;
mod twiml;
