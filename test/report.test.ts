// Reports (src/report): the renderers on real results, parsed back with real parsers
// (report/renderers.ts); nothing a file contains reaching a terminal or report unescaped, through
// the CLI (report/safety.ts); the HTML report in headless Chromium (report/browser.ts); the
// tolerance flags and presets through the CLI's reports (report/tolerance-cli.ts). One process:
// node --test starts one per test file, and jsdom alone takes ~0.5 s to load.
import './report/renderers.js';
import './report/safety.js';
import './report/browser.js';
import './report/tolerance-cli.js';
