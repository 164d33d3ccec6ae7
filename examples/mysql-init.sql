CREATE TABLE customers (id bigint PRIMARY KEY, name varchar(200) NOT NULL, email varchar(200));
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL,
  status varchar(20) NOT NULL,
  amount decimal(12,2) NOT NULL,
  created_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
);
