//! Customer names: the Messenger profile names a customer when they first
//! write, drawn from the Page's send budget and refreshed when stale; when
//! Meta refuses, the recipient of the first address names them; a name the
//! seller types stays. Names are found by search in any letter case.

use crate::common::{TestApp, now};
use crate::messenger::{PSID, app_with_graph, count, post_signed, postback, text_event};
use crate::undelivered::owner;
use chatbill::store::catalog::{self, NewProduct, NewVariant};
use chatbill_load::fake_graph::{FakeGraph, Profile};
use serde_json::{Value, json};

async fn customer_named(app: &TestApp, q: &str) -> Vec<Value> {
    let q: String = url_escape(q);
    let (status, body) = owner(app, "GET", &format!("/customers?q={q}"), None).await;
    assert_eq!(status, 200, "{body}");
    body["customers"].as_array().cloned().unwrap_or_default()
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn the_customer(app: &TestApp) -> Value {
    let id = count(
        app,
        &format!("select id from customers where channel_user_id = '{PSID}'"),
    )
    .await;
    let (status, body) = owner(app, "GET", &format!("/customers/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    body["customer"].clone()
}

fn mai() -> Profile {
    Profile::Found {
        first_name: "Mai".into(),
        last_name: "Trần".into(),
        picture: Some("https://platform-lookaside.fbsbx.com/p/mai.jpg".into()),
    }
}

#[tokio::test]
async fn the_messenger_profile_names_a_new_customer_and_a_name_the_seller_types_stays() {
    let (app, graph) = app_with_graph(&[]).await;
    graph.set_profile(PSID, mai());
    post_signed(&app, &postback("m_n1", PSID, now().millis(), "GET_STARTED")).await;
    app.drain().await;

    let c = the_customer(&app).await;
    assert_eq!(c["display_name"], "Mai Trần");
    assert_eq!(c["name_source"], "messenger");
    assert_eq!(
        c["picture_url"],
        "https://platform-lookaside.fbsbx.com/p/mai.jpg"
    );
    assert_eq!(graph.profile_lookups(PSID), 1);
    let lookup = graph
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with(&format!("/{PSID}")))
        .expect("a profile lookup");
    assert_eq!(
        lookup.auth.as_deref(),
        Some("Bearer page-token-1"),
        "the lookup is made with the Page's token"
    );
    // Found in any case, beyond ASCII too.
    for q in ["trần", "TRẦN", "mai tr"] {
        assert_eq!(customer_named(&app, q).await.len(), 1, "search {q}");
    }

    // Writing again soon asks Meta nothing.
    post_signed(&app, &text_event("m_n2", PSID, now().millis(), "hi")).await;
    app.drain().await;
    assert_eq!(graph.profile_lookups(PSID), 1);

    // The seller names them; a bad name is refused by field.
    let id = c["id"].as_i64().unwrap();
    for bad in [
        json!({"name": "   "}),
        json!({"name": "a\u{7}b"}),
        json!({"name": "x".repeat(81)}),
    ] {
        let (status, body) = owner(&app, "PATCH", &format!("/customers/{id}"), Some(bad)).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["field"], "name");
    }
    assert_eq!(the_customer(&app).await["display_name"], "Mai Trần");
    let (status, body) = owner(
        &app,
        "PATCH",
        &format!("/customers/{id}"),
        Some(json!({"name": "  Mai   (VIP) "})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["customer"]["display_name"], "Mai (VIP)");
    assert_eq!(body["customer"]["name_source"], "seller");
    // Another shop's customer cannot be renamed from here.
    let (other, _) =
        crate::common::make_shop(&app.db, "Other", chatbill::domain::Currency::THB).await;
    let mut tx = app.db.begin().await.unwrap();
    let theirs = chatbill::store::customers::upsert(&mut tx, other.id, "webchat", "v-other", now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (status, _) = owner(
        &app,
        "PATCH",
        &format!("/customers/{}", theirs.id.get()),
        Some(json!({"name": "Hijacked"})),
    )
    .await;
    assert_eq!(status, 404);

    // A week on, the profile is fetched again when they write, and the
    // seller's name still wins; the picture follows the profile.
    graph.set_profile(
        PSID,
        Profile::Found {
            first_name: "Mai".into(),
            last_name: "Tran".into(),
            picture: Some("https://platform-lookaside.fbsbx.com/p/mai2.jpg".into()),
        },
    );
    chatbill::store::profiles::again_at(&app.db, chatbill::domain::CustomerId(id), now(), None)
        .await
        .unwrap();
    app.drain().await;
    assert_eq!(graph.profile_lookups(PSID), 2);
    let c = the_customer(&app).await;
    assert_eq!(c["display_name"], "Mai (VIP)");
    assert_eq!(
        c["picture_url"],
        "https://platform-lookaside.fbsbx.com/p/mai2.jpg"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_stale_profile_is_fetched_again_when_the_customer_writes() {
    let (app, graph) = app_with_graph(&[]).await;
    graph.set_profile(PSID, mai());
    post_signed(&app, &postback("m_s1", PSID, now().millis(), "GET_STARTED")).await;
    app.drain().await;
    assert_eq!(graph.profile_lookups(PSID), 1);
    // Eight days later (the refresh period is seven).
    let eight_days_ago = now().millis() - 8 * 24 * 3_600_000;
    sqlx::query("update customers set profile_fetched_at = $1")
        .bind(eight_days_ago)
        .execute(app.db.pool())
        .await
        .unwrap();
    graph.set_profile(
        PSID,
        Profile::Found {
            first_name: "Mai".into(),
            last_name: "Nguyễn".into(),
            picture: None,
        },
    );
    post_signed(&app, &text_event("m_s2", PSID, now().millis(), "hi")).await;
    app.drain().await;
    assert_eq!(graph.profile_lookups(PSID), 2);
    assert_eq!(the_customer(&app).await["display_name"], "Mai Nguyễn");
    app.stop().await;
}

#[tokio::test]
async fn an_outage_at_meta_delays_the_name_but_never_the_reply() {
    let (app, graph) = app_with_graph(&[]).await;
    graph.set_profile(PSID, Profile::Unavailable);
    post_signed(&app, &postback("m_o1", PSID, now().millis(), "GET_STARTED")).await;
    app.drain().await;
    assert!(!graph.sends_to(PSID).is_empty(), "the welcome went out");
    assert_eq!(graph.profile_lookups(PSID), 1);
    assert_eq!(
        count(
            &app,
            &format!(
                "select count(*) from customers where channel_user_id = '{PSID}' \
                 and profile_attempts = 1 and profile_due_at > {}",
                now().millis()
            )
        )
        .await,
        1,
        "the lookup is tried again later"
    );
    assert_eq!(the_customer(&app).await["display_name"], "");
    app.stop().await;
}

/// Every payload the shop offered in its last few messages to `psid`.
fn offered(graph: &FakeGraph, psid: &str) -> Vec<String> {
    let mut out = Vec::new();
    for send in graph.sends_to(psid).iter().rev().take(4) {
        let m = &send.body["message"];
        let payload = &m["attachment"]["payload"];
        let mut lists = vec![&m["quick_replies"], &payload["buttons"]];
        for e in payload["elements"].as_array().into_iter().flatten() {
            lists.push(&e["buttons"]);
        }
        for list in lists {
            for b in list.as_array().into_iter().flatten() {
                if let Some(p) = b["payload"].as_str() {
                    out.push(p.to_string());
                }
            }
        }
    }
    out
}

struct Chat<'a> {
    app: &'a TestApp,
    graph: &'a FakeGraph,
    n: u32,
}

impl Chat<'_> {
    async fn tap(&mut self, payload: &str) {
        self.n += 1;
        let mid = format!("m_j{}", self.n);
        post_signed(self.app, &postback(&mid, PSID, now().millis(), payload)).await;
        self.app.drain().await;
    }

    async fn say(&mut self, text: &str) {
        self.n += 1;
        let mid = format!("m_j{}", self.n);
        post_signed(self.app, &text_event(&mid, PSID, now().millis(), text)).await;
        self.app.drain().await;
    }

    async fn tap_offered(&mut self, prefix: &str) {
        let offered = offered(self.graph, PSID);
        let p = offered
            .iter()
            .find(|p| p.starts_with(prefix))
            .unwrap_or_else(|| panic!("nothing starting {prefix} offered: {offered:?}"))
            .clone();
        self.tap(&p).await;
    }

    async fn buy_one(&mut self, recipient: &str) {
        self.tap("MENU_PRODUCTS").await;
        self.tap_offered("ADD:").await;
        if offered(self.graph, PSID)
            .iter()
            .any(|p| p.starts_with("QTY:"))
        {
            self.tap_offered("QTY:").await;
        }
        self.tap_offered("CHECKOUT").await;
        if offered(self.graph, PSID).iter().any(|p| p == "ADDR_NEW") {
            self.tap("ADDR_NEW").await;
        }
        for line in [
            recipient,
            "081-234-5678",
            "99/1 Sukhumvit 11",
            "Bangkok",
            "Watthana",
        ] {
            self.say(line).await;
        }
        self.tap_offered("PLACE").await;
    }
}

#[tokio::test]
async fn when_meta_refuses_the_profile_the_first_address_names_the_customer() {
    // The fake refuses profiles unless told otherwise, as Meta does for an
    // app without the permission.
    let (app, graph) = app_with_graph(&[]).await;
    catalog::create_product(
        &app.db,
        app.shop.id,
        &NewProduct {
            name: "Tee".into(),
            description: String::new(),
            category: String::new(),
            image_url: None,
            price: 29_900,
            variants: vec![NewVariant {
                name: String::new(),
                price: None,
                stock: Some(10),
            }],
        },
        now(),
    )
    .await
    .unwrap();
    let mut chat = Chat {
        app: &app,
        graph: &graph,
        n: 0,
    };
    chat.tap("GET_STARTED").await;
    assert_eq!(graph.profile_lookups(PSID), 1);
    assert_eq!(the_customer(&app).await["display_name"], "");

    chat.buy_one("Somchai Jaidee").await;
    let c = the_customer(&app).await;
    assert_eq!(c["display_name"], "Somchai Jaidee");
    assert_eq!(c["name_source"], "address");
    // The order list shows the name and a search by it finds the order.
    let (status, list) = owner(&app, "GET", "/orders?q=SOMCHAI", None).await;
    assert_eq!(status, 200, "{list}");
    let orders = list["orders"].as_array().cloned().unwrap_or_default();
    assert_eq!(orders.len(), 1, "{list}");
    assert_eq!(orders[0]["customer_name"], "Somchai Jaidee");

    // A gift to someone else later does not rename the customer.
    chat.buy_one("Ploy Gift").await;
    assert_eq!(the_customer(&app).await["display_name"], "Somchai Jaidee");
    app.stop().await;
}
