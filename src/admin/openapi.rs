//! The OpenAPI 3.1 document, generated from the route table in
//! [`super::endpoints`] (the same table the router is built from).

use axum::Json;
use serde_json::{Map, Value, json};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for e in super::endpoints() {
        let mut params = Vec::new();
        for seg in e.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                params.push(json!({
                    "name": name, "in": "path", "required": true,
                    "schema": {"type": "integer", "format": "int64"}
                }));
            }
        }
        if e.tag == "actions" {
            params.push(json!({
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "Repeat a submit safely: the first answer is replayed, nothing happens twice",
                "schema": {"type": "string", "maxLength": 200}
            }));
        }
        let html = e.tag == "printing";
        let mut op = json!({
            "tags": [e.tag],
            "summary": e.summary,
            "operationId": format!("{}{}", e.method, e.path.replace(['/', '{', '}', '-'], "_")),
            "parameters": params,
            "responses": {
                "200": if html {
                    json!({"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}})
                } else {
                    json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}})
                },
                "400": error_response("Bad request"),
                "401": error_response("Missing, unknown or revoked token"),
                "404": error_response("Not found in this shop"),
                "409": error_response("Conflict with the current state; names fulfilment and payment"),
                "422": error_response("Invalid input"),
                "429": error_response("Too many failed authentications"),
            }
        });
        if e.body {
            op["requestBody"] = json!({
                "required": false,
                "content": {"application/json": {"schema": {"type": "object"}}}
            });
        }
        let entry = paths
            .entry(e.path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[e.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "chatbill admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The seller side of chatbill: orders and payments, customers, conversations, products, printing. Authenticate with Authorization: Bearer <token>."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "fulfilment": {"type": "string"},
                        "payment": {"type": "string"}
                    }
                }
            }
        }
    })
}

/// `GET /api/v1/openapi.json` (public, like any API description).
pub async fn serve() -> Json<Value> {
    Json(document())
}
