//! The OpenAPI 3.1 document, generated from the route table in
//! [`super::endpoints`] (the same table the router is built from).

use crate::domain::access::{Permission, Role};
use axum::Json;
use serde_json::{Map, Value, json};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn obj(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": props, "required": required})
}

const INT: &str = "integer";

fn t(kind: &str) -> Value {
    json!({ "type": kind })
}

/// The request body of a route, by its path (and method for PATCH).
fn body_schema(method: &str, path: &str) -> Option<Value> {
    let tail = path.rsplit('/').next().unwrap_or("");
    let address = obj(
        json!({"full_name": t("string"), "phone": t("string"), "line": t("string"),
               "province": t("string"), "district": t("string"), "postcode": t("string")}),
        &["full_name", "phone", "line", "province", "district"],
    );
    Some(match (method, tail) {
        ("post", "confirm-payment") => obj(
            json!({"payment_id": t(INT), "amount": t(INT), "credit_excess": t("boolean")}),
            &[],
        ),
        ("post", "reject-payment") => obj(
            json!({"payment_id": t(INT), "reason": t("string")}),
            &["reason"],
        ),
        ("post", "ship") => obj(
            json!({"carrier": t("string"), "tracking": t("string"), "ship_now": t("boolean"), "person": t("string")}),
            &[],
        ),
        ("post", "collect-cod") => obj(json!({"amount": t(INT)}), &[]),
        ("post", "remittances") => obj(
            json!({"reference": {"type": "string", "maxLength": 80}, "amount": t(INT),
                   "orders": {"type": "array", "minItems": 1, "maxItems": crate::app::remittances::MAX_ORDERS,
                              "items": obj(json!({"code": t("string"), "amount": t(INT)}), &["code"])},
                   "note": t("string")}),
            &["reference", "amount", "orders"],
        ),
        ("post", "add-service" | "remove-service" | "service-done") => {
            obj(json!({"service": t("string")}), &["service"])
        }
        ("post", "track") => obj(
            json!({"status": {"type": "string", "enum": ["in_transit", "out_for_delivery", "failed_attempt", "delivered", "returning"]},
                   "note": {"type": "string", "maxLength": 200}}),
            &["status"],
        ),
        ("post", "resolve-payment") => obj(
            json!({"payment_id": t(INT), "note": t("string")}),
            &["payment_id"],
        ),
        ("post", "cancel") => obj(json!({"reason": t("string")}), &[]),
        ("post", "assign") => obj(
            json!({"person": {"type": ["string", "null"], "maxLength": 60}}),
            &[],
        ),
        ("post", "orders") => obj(
            json!({"customer_id": t(INT),
                   "customer": obj(json!({"name": t("string"), "phone": t("string")}), &["name", "phone"]),
                   "items": {"type": "array", "minItems": 1, "items": obj(json!({"variant_id": t(INT), "qty": {"type": "integer", "minimum": 1, "maximum": 10000}}), &["variant_id", "qty"])},
                   "address": address.clone(), "method": {"type": "string", "enum": ["bank_transfer", "qr_transfer", "cod"]},
                   "shipping_fee": t(INT)}),
            &["items"],
        ),
        ("post", "resolve") => obj(
            json!({"outcome": {"type": "string", "enum": ["refund", "reship", "rejected"]},
                   "amount": t(INT), "note": {"type": "string", "maxLength": 500}}),
            &["outcome"],
        ),
        ("post", "edit-address") => obj(json!({ "address": address }), &["address"]),
        ("post", "edit-fees") => obj(
            json!({"fees": {"type": "array", "items": obj(json!({"label": t("string"), "amount": t(INT)}), &["label", "amount"])},
                   "shipping_fee": t(INT), "discount": t(INT)}),
            &[],
        ),
        ("post", "edit-line") => obj(
            json!({"line_id": t(INT), "unit_price": t(INT), "qty": t(INT)}),
            &["line_id", "unit_price", "qty"],
        ),
        ("post", "deposit") | ("post", "withdraw") => {
            obj(json!({"amount": t(INT), "note": t("string")}), &["amount"])
        }
        ("post", "reply") => obj(
            json!({"text": {"type": "string", "maxLength": 2000}}),
            &["text"],
        ),
        ("post", "products") => obj(
            json!({"name": t("string"), "price": t(INT), "description": t("string"), "category": t("string"),
                   "image_url": t("string"),
                   "variants": {"type": "array", "items": obj(json!({"name": t("string"), "price": t(INT), "stock": t(INT)}), &[])}}),
            &["name", "price"],
        ),
        ("patch", _) if path.contains("/products/") => obj(
            json!({"name": t("string"), "description": t("string"), "category": t("string"),
                   "image_url": t("string"), "price": t(INT), "active": t("boolean")}),
            &[],
        ),
        ("put", "image") => obj(json!({"image_url": t("string")}), &["image_url"]),
        ("patch", "settings") | ("put", "settings") => settings_schema(),
        ("patch", "me") => obj(
            json!({"language": {"type": ["string", "null"], "enum": ["en", "th", "vi", null]}}),
            &["language"],
        ),
        ("put", "messenger") => obj(
            json!({"page_id": {"type": "string", "pattern": "^[0-9]{1,30}$"}, "access_token": {"type": "string", "writeOnly": true}}),
            &["page_id", "access_token"],
        ),
        ("post", "variants") | ("patch", _) => obj(
            json!({"name": t("string"), "price": {"type": ["integer", "null"]}, "stock": {"type": ["integer", "null"]}}),
            &[],
        ),
        ("post", "stock") => obj(json!({"delta": t(INT)}), &["delta"]),
        ("post", "tokens") => obj(
            json!({"label": t("string"), "role": {"type": "string", "enum": Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>()}}),
            &["label", "role"],
        ),
        _ => return None,
    })
}

/// The settings a seller can change, as `PATCH /settings` takes them.
fn settings_schema() -> Value {
    use crate::domain::order::PaymentMethod;
    let methods: Vec<&str> = PaymentMethod::ALL.iter().map(|m| m.as_str()).collect();
    let account = obj(
        json!({"bank": t("string"), "account_name": t("string"),
               "account_number": {"type": "string", "description": "6–20 digits; dashes and spaces allowed"},
               "default": {"type": "boolean", "description": "Listed first on the bill"}}),
        &["bank", "account_name", "account_number"],
    );
    let qr = json!({"oneOf": [
        obj(json!({"scheme": {"const": "promptpay"}, "id": {"type": "string", "description": "10-digit phone (0…), 13-digit national or tax id (check digit verified) or 15-digit e-wallet id"}}), &["scheme", "id"]),
        obj(json!({"scheme": {"const": "vietqr"}, "bank_bin": {"type": "string", "description": "The bank's 6-digit VietQR BIN, e.g. 970436"}, "account": t("string")}), &["scheme", "bank_bin", "account"]),
    ]});
    let kinds = crate::engine::notices::KINDS;
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "Name only the settings to change; null puts one back to its default. A wrong value is a 400 with `field` and `reason`.",
        "properties": {
            "bank_accounts": {"type": "array", "items": account, "description": "Receiving accounts shown for bank transfer; at most one default"},
            "payment_qr": {"anyOf": [qr, {"type": "null"}], "description": "PromptPay (THB shops) or VietQR (VND shops): the QR with the exact amount on each bill"},
            "payment_methods": {"type": "array", "items": {"type": "string", "enum": methods}, "minItems": 1, "uniqueItems": true},
            "hold_hours": {"type": "integer", "minimum": 1, "maximum": crate::domain::settings::MAX_HOLD_HOURS, "description": "How long an unpaid order holds its stock"},
            "reminder_before_hours": {"type": "integer", "minimum": 0, "description": "When, before the hold lapses, the customer is reminded (less than hold_hours; 0: no reminder)"},
            "cod_fee": {"type": "integer", "minimum": 0, "description": "Minor units added as a \"COD fee\" line when the customer chooses cash on delivery (0: none)"},
            "expiry_cancels": {"type": "boolean", "description": "Whether an order not paid within hold_hours is cancelled and its stock released (default); false keeps it open, stock held, with no reminder"},
            "shipping_flat_fee": {"type": "integer", "minimum": 0, "description": "Minor units"},
            "free_shipping_over": {"type": ["integer", "null"], "minimum": 0, "description": "Subtotal (minor units) from which shipping is free"},
            "shipping_by_province": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                "maxProperties": crate::domain::settings::MAX_PROVINCE_FEES,
                "description": "Fee (minor units) per province or region instead of the flat fee, keyed by the names a customer may type, separated by / (\"Chiang Mai / เชียงใหม่\"); matched in any case, with or without \"Province\", \"จังหวัด\", \"Tỉnh\" or \"TP.\"; a merge patch: null removes one"},
            "carriers": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                    "tracking_url": {"type": ["string", "null"], "pattern": "^https://.*\\{tracking\\}", "maxLength": 300},
                    "collects_cod": {"type": "boolean"}}},
                "maxProperties": crate::domain::settings::MAX_CARRIERS,
                "description": "The carriers the shop ships with, by name (matched in any case to the carrier an order ships with): tracking_url, the public tracking page with {tracking} where the number goes (the customer's order in chat links to it), and collects_cod, whether the carrier collects cash on delivery and pays the shop later (GET /carriers shows what each owes). A value may also be just the link. The older name tracking_links is accepted. A merge patch: null removes one"},
            "services": {"type": "array", "maxItems": crate::domain::settings::MAX_SERVICES, "items": {"type": "object", "required": ["id", "name", "price", "charged"], "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9_-]{1,32}$"},
                    "name": {"type": "string", "maxLength": 40},
                    "price": {"type": "integer", "minimum": 0, "description": "Minor units"},
                    "charged": {"type": "string", "enum": ["always", "when_done"], "description": "always: added to the total when chosen; when_done: owed only once the seller marks it done"}}},
                "description": "Extra services (gift wrap, insurance, inspection…) a customer may add to an order in chat before it ships, or the seller through POST /orders/{id}/add-service"},
            "allow_negative_balance": t("boolean"),
            "messages": {"type": "object", "propertyNames": {"enum": crate::domain::shop::LANGUAGES},
                "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
                "description": "The shop's wording per language and message key (welcome, welcome_anonymous, btn_products, notice_shipped, …): placeholders in {braces} must be ones the message fills, and those it needs (all but {name} and {shop}) kept; button labels at most 20 characters; null goes back to chatbill's wording"},
            "cancel_rule": {"type": "string", "enum": ["until_paid", "until_confirmed", "until_shipped"],
                "description": "Until when a customer may cancel in chat (a slip under review always waits for the seller); money paid goes back by excess_payment"},
            "cancel_policy": {"type": "object", "propertyNames": {"enum": crate::domain::shop::LANGUAGES},
                "additionalProperties": {"type": "string", "maxLength": crate::domain::settings::MAX_POLICY_CHARS},
                "description": "The cancel policy in words per language, shown when a customer asks to cancel and on their order"},
            "excess_payment": {"type": "string", "enum": ["balance", "refund_due"]},
            "time_zone": {"type": ["string", "null"], "description": "IANA zone name, e.g. Asia/Bangkok"},
            "shop_address": {"type": ["string", "null"], "maxLength": crate::domain::settings::MAX_SHOP_ADDRESS_CHARS, "description": "Where the shop is, printed as the sender on bills and shipping notes"},
            "language": {"anyOf": [{"type": "string", "enum": crate::domain::shop::LANGUAGES}, {"type": "null"}],
                "description": "The shop's language: for customers whose own is not known yet, bills and amounts; null: the one it was created with"},
            "currency_display": {"type": "object", "additionalProperties": false, "properties": {
                    "unit": {"type": "string", "enum": ["symbol", "code", "word"], "description": "symbol: ฿1,250.00 · code: 1,250.00 THB · word: 1,250.00 บาท (in the customer's language; the code where chatbill knows no word)"},
                    "whole_without_decimals": {"type": "boolean", "description": "฿1,250 rather than ฿1,250.00 when an amount has no satang or cents"}},
                "description": "How amounts are written to customers, on bills and in the console"},
            "utc_offset_minutes": {"type": "integer", "minimum": -840, "maximum": 840, "description": "Used only without time_zone"},
            "utility_templates": {"type": "object", "propertyNames": {"enum": kinds}, "additionalProperties": {"type": "string", "pattern": "^[a-z0-9_]{1,512}$"},
                                  "description": "Approved Utility template name per push, used outside the 24-hour window"},
        }
    })
}

fn list_parameters() -> Vec<Value> {
    use crate::domain::lifecycle::{Fulfilment, PaymentStatus, Tab};
    let q = |name: &str, schema: Value, d: &str| json!({"name": name, "in": "query", "required": false, "schema": schema, "description": d});
    let names = |v: Vec<&str>| json!({"type": "string", "enum": v});
    vec![
        q(
            "tab",
            names(Tab::ALL.iter().map(|x| x.as_str()).collect()),
            "Status tab",
        ),
        q("channel", t("string"), "messenger, webchat, ..."),
        q(
            "status",
            names(Fulfilment::ALL.iter().map(|x| x.as_str()).collect()),
            "Fulfilment status",
        ),
        q(
            "payment_status",
            names(PaymentStatus::ALL.iter().map(|x| x.as_str()).collect()),
            "Payment status",
        ),
        q(
            "from",
            t("string"),
            "Created at or after: epoch ms, or YYYY-MM-DD from the start of that day in the shop's time zone",
        ),
        q(
            "to",
            t("string"),
            "Created before: epoch ms, or YYYY-MM-DD through the end of that day in the shop's time zone",
        ),
        q("customer", t(INT), "Customer id"),
        q(
            "q",
            t("string"),
            "Order code, or part of the customer's name or phone",
        ),
        q("sort", names(vec!["created", "updated"]), "Newest first by"),
        q("cursor", t("string"), "next_cursor of the previous page"),
        q(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
            "Page size",
        ),
    ]
}

/// `from`, `to` (and the report's `format`) of the books' routes.
fn period_parameters(report: bool) -> Vec<Value> {
    let q = |name: &str, schema: Value, d: &str| json!({"name": name, "in": "query", "required": false, "schema": schema, "description": d});
    let date = json!({"type": "string", "format": "date"});
    let mut v = vec![
        q(
            "from",
            date.clone(),
            "First day, YYYY-MM-DD in the shop's time zone (default: 29 days before to)",
        ),
        q(
            "to",
            date,
            "Last day, inclusive (default: today); at most 367 days in all",
        ),
    ];
    if report {
        v.push(q(
            "format",
            json!({"type": "string", "enum": ["json", "csv"], "default": "json"}),
            "json, or csv: section,item,count,amount,currency",
        ));
    }
    v
}

/// "Needs …" for an operation's description: the permission in words.
fn permission_sentence(needs: &[Permission], rule: Option<&str>) -> String {
    let words: Vec<String> = needs
        .iter()
        .map(|p| format!("{} ({})", p.describe(), p.as_str()))
        .collect();
    let mut s = format!("Needs the permission to {}.", words.join(", or to "));
    if let Some(r) = rule {
        s.push(' ');
        s.push_str(r);
    }
    s
}

fn roles_holding(needs: &[Permission]) -> Vec<&'static str> {
    Role::ALL
        .iter()
        .filter(|r| needs.iter().any(|p| r.may(*p)))
        .map(|r| r.as_str())
        .collect()
}

/// The roles × permissions table (`domain::access::TABLE`).
pub fn permission_table() -> Value {
    Permission::ALL
        .iter()
        .map(|p| {
            json!({"permission": p.as_str(), "describe": p.describe(),
                        "roles": p.roles().iter().map(|r| r.as_str()).collect::<Vec<_>>()})
        })
        .collect()
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
        if e.method == "get" && e.path == "/api/v1/orders" {
            params.extend(list_parameters());
        }
        if e.tag == "books" {
            params.extend(period_parameters(e.path.ends_with("reconciliation")));
        }
        let html = e.tag == "printing";
        let csv = e.path.ends_with(".csv");
        let needs: Vec<&str> = e.needs.iter().map(|p| p.as_str()).collect();
        let mut op = json!({
            "tags": [e.tag],
            "summary": e.summary,
            "description": permission_sentence(e.needs, e.rule),
            "x-permission": needs.first().copied().unwrap_or_default(),
            "x-permissions": needs,
            "x-roles": roles_holding(e.needs),
            "operationId": format!("{}{}", e.method, e.path.replace(['/', '{', '}', '-'], "_")),
            "parameters": params,
            "responses": {
                "200": if html {
                    json!({"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}})
                } else if csv {
                    json!({"description": "CSV (RFC 4180), UTF-8", "content": {"text/csv": {"schema": {"type": "string"}}}})
                } else if e.tag == "books" {
                    json!({"description": "JSON, or CSV with format=csv", "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "text/csv": {"schema": {"type": "string"}}}})
                } else {
                    json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}})
                },
                "400": error_response("Bad request"),
                "401": error_response("Missing, unknown or revoked token"),
                "403": error_response("The token's role lacks the permission; names it (permission, role)"),
                "404": error_response("Not found in this shop"),
                "409": error_response("Conflict with the current state; names fulfilment and payment"),
                "422": error_response("Invalid input"),
                "413": error_response("The body or a file in it is over its size limit"),
                "429": error_response("Too many failed authentications"),
            }
        });
        if e.body {
            let schema =
                body_schema(e.method, &e.path).unwrap_or_else(|| json!({"type": "object"}));
            op["requestBody"] = if e.path.ends_with("/pictures") && e.method == "post" {
                json!({
                    "required": true,
                    "content": {"multipart/form-data": {"schema": obj(
                        json!({"file": {"type": "array", "items": {"type": "string", "format": "binary"},
                               "description": "one to ten JPEG, PNG or WebP files, each at most 10 MiB"}}),
                        &["file"],
                    )}}
                })
            } else {
                json!({
                    "required": false,
                    "content": {"application/json": {"schema": schema}}
                })
            };
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
            "description": "The seller side of chatbill: orders and payments, customers, conversations, products, printing. Authenticate with Authorization: Bearer <token>. Each operation names the permission it needs (x-permission, and the roles holding it in x-roles); a token whose role lacks it gets 403 with the permission named. x-permission-table lists every role's permissions."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "x-permission-table": permission_table(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "fulfilment": {"type": "string"},
                        "payment": {"type": "string"},
                        "permission": {"type": "string", "enum": Permission::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>()},
                        "role": {"type": "string", "enum": Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>()}
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
