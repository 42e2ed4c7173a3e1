/**
 * placeholder
 * @module
 */
export {};
