/** `sio-gateway doctor`: the host limits for a number of connections, read only. */
export { evaluateHost, formatChecks, type Check } from "./evaluate.js";
export { readHost, type HostReadings } from "./readings.js";
