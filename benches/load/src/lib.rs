//! Load generators for chatbill (`intake`, `journey`) and the fake Graph
//! API that both they and chatbill's tests run: a real HTTP server on
//! 127.0.0.1 that records what it is sent and can be told to fail, to
//! rate-limit like Meta, or to answer slowly. Kept out of the product.

pub mod fake_graph;
pub mod hostile;
pub mod intake;
pub mod journey;
