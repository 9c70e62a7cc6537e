// The routing decision moved to gateway/routing.ts (the workers apply it per request too);
// this path stays for the tests that import it from here.
export { chooseSlot, cookieValue, fnv1a, sessionIdOf, slotForIp, type RouteReason, type RoutedRequest } from "../routing.js";
