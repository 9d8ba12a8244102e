/**
 * Product ids known to Flashline itself. The virtual device's product id is the only scope the shipped
 * demo signing key is trusted for, so a demo package can never authorize a real device.
 */
export const VIRTUAL_PRODUCT_ID = 'flashline-virtual';
