// The shop's catalogue and cart, shared by shop.html, cart.html and checkout.html.
"use strict";
const PRODUCTS = [
  { id: "blue-mug", name: "Blue mug", price: 12 },
  { id: "red-mug", name: "Red mug", price: 12 },
  { id: "teapot", name: "Teapot", price: 34 },
  { id: "tea-towel", name: "Tea towel", price: 8 },
];
const Cart = {
  items() { return Sandbox.load("cart", {}); },
  count() { return Object.values(Cart.items()).reduce((a, b) => a + b, 0); },
  change(id, delta) {
    const items = Cart.items();
    const next = (items[id] || 0) + delta;
    if (next > 0) items[id] = next; else delete items[id];
    Sandbox.save("cart", items);
  },
  product(id) { return PRODUCTS.find((p) => p.id === id); },
  total() {
    return Object.entries(Cart.items())
      .reduce((sum, [id, qty]) => sum + Cart.product(id).price * qty, 0);
  },
};
function showCartLink() {
  const link = document.getElementById("cart-link");
  if (link) link.textContent = `Cart (${Cart.count()})`;
}
