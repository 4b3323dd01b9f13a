"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __exportStar = (this && this.__exportStar) || function(m, exports) {
    for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports, p)) __createBinding(exports, m, p);
};
Object.defineProperty(exports, "__esModule", { value: true });
__exportStar(require("./tf"), exports);
__exportStar(require("./backend"), exports);
__exportStar(require("./kernels"), exports);
__exportStar(require("./random"), exports);
__exportStar(require("./ops"), exports);
__exportStar(require("./config"), exports);
__exportStar(require("./batches"), exports);
__exportStar(require("./layers/layer-norm"), exports);
__exportStar(require("./layers/item-embedding"), exports);
__exportStar(require("./layers/attention"), exports);
__exportStar(require("./layers/recurrent"), exports);
__exportStar(require("./layers/pooling"), exports);
__exportStar(require("./encoder"), exports);
__exportStar(require("./losses"), exports);
__exportStar(require("./item2vec"), exports);
__exportStar(require("./train"), exports);
__exportStar(require("./io"), exports);
__exportStar(require("./evaluate-local"), exports);
//# sourceMappingURL=index.js.map