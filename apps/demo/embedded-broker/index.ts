/** The embedded MQTT 5 broker's public API (README.md: what it supports). */
export { EmbeddedBroker, type EmbeddedBrokerOptions, type EmbeddedBrokerStats } from './embedded-broker.js';
