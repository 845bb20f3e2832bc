-- Product pictures the seller uploaded: decoded, resized and stored in the
-- media folder by content (public/products/ab/<sha256>.jpg), several per
-- product in the seller's order; the first is the carousel card's picture.
create table product_pictures (
    id integer primary key,
    shop_id integer not null references shops(id),
    product_id integer not null references products(id),
    position integer not null,
    sha256 text not null,
    width integer not null,
    height integer not null,
    bytes integer not null,
    created_at integer not null,
    unique (product_id, sha256)
);
create index product_pictures_product on product_pictures (product_id, position);
