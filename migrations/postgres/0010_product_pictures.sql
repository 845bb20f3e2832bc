-- Product pictures the seller uploaded: decoded, resized and stored in the
-- media folder by content (public/products/ab/<sha256>.jpg), several per
-- product in the seller's order; the first is the carousel card's picture.
create table product_pictures (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    product_id bigint not null references products(id),
    position bigint not null,
    sha256 text not null,
    width bigint not null,
    height bigint not null,
    bytes bigint not null,
    created_at bigint not null,
    unique (product_id, sha256)
);
create index product_pictures_product on product_pictures (product_id, position);
