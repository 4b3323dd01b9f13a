"use strict";
/**
 * The one internal shape every data source (dataset files, a replay of the events topic, the
 * synthetic generator) is turned into, and the one interface every model (neural or classic) is
 * trained and evaluated through.
 */
Object.defineProperty(exports, "__esModule", { value: true });
//# sourceMappingURL=types.js.map