// Calls this service with the npm package `perspective-api-client` (the client Node apps use for Perspective), as
// an app would: `new Perspective({apiKey}).analyze(...)`. Its URL is fixed to Google's, so an axios request
// interceptor sends each of its requests to the base URL instead; the interceptor is installed on the very axios
// the package requires (resolved from the package's own folder, so a nested copy would be the one patched).
//
//   node perspective_client.js [BASE_URL [API_KEY]]     (or the environment's BASE_URL and API_KEY)
//
// Prints one JSON document with what came back, and the checks that need JavaScript's own strings (span offsets
// are UTF-16 code units: `text.substring(begin, end)` is only right if the server counted as JavaScript does).
"use strict";

const path = require("path");

const base = process.argv[2] || process.env.BASE_URL;
const key = process.argv[3] || process.env.API_KEY;
if (!base || !key) {
  process.stderr.write("usage: node perspective_client.js BASE_URL API_KEY (or BASE_URL and API_KEY in the env)\n");
  process.exit(2);
}

const clientDir = path.dirname(require.resolve("perspective-api-client/package.json"));
const clientAxiosPath = require.resolve("axios", { paths: [clientDir] });
const axios = require(clientAxiosPath);
const Perspective = require("perspective-api-client");

const GOOGLE = "https://commentanalyzer.googleapis.com";
const redirected = [];
axios.interceptors.request.use((config) => {
  if (config.url.startsWith(GOOGLE)) {
    redirected.push(config.url.slice(GOOGLE.length));
    config.url = base.replace(/\/+$/, "") + config.url.slice(GOOGLE.length);
  }
  return config;
});

const POLITE = "Thanks for the balanced article on the talks in Tehran.";
const ABUSIVE = "You are a worthless idiot and everyone here despises you.";
// Characters outside the BMP (two UTF-16 code units each, a skin-tone modifier, a flag of two regional indicators)
// before and after the abuse: offsets counted in code points or bytes would be off.
const SPANNED = "Thanks for the piece on the talks 🙂👍🏽. You are a worthless idiot! See you in Tehran 🇮🇷.";
// HTML analysed as HTML (the client must not strip it): spans index the HTML as sent.
const HTML = "<p>Thanks 🙂 for this.</p><p>You are a worthless &amp; stupid <b>idiot</b>!</p>";

const isHigh = (code) => code >= 0xd800 && code <= 0xdbff;
const isLow = (code) => code >= 0xdc00 && code <= 0xdfff;

// Each span as JavaScript reads it, and whether its offsets are a valid slice of the string (in range, ordered,
// not splitting a surrogate pair).
function slices(text, spans) {
  return (spans || []).map(({ begin, end }) => ({
    begin,
    end,
    text: text.substring(begin, end),
    valid:
      Number.isInteger(begin) &&
      Number.isInteger(end) &&
      begin >= 0 &&
      begin < end &&
      end <= text.length &&
      !isLow(text.charCodeAt(begin)) &&
      !isHigh(text.charCodeAt(end - 1)),
  }));
}

async function refused(call) {
  try {
    await call();
    return { error: null };
  } catch (error) {
    const data = error.response && error.response.data;
    return {
      error: error.name,
      isResponseError: error instanceof Perspective.ResponseError,
      message: error.message,
      status: error.response && error.response.status,
      body: data || null,
    };
  }
}

async function main() {
  const client = new Perspective({ apiKey: key });
  const out = {
    axios: {
      version: require(path.join(path.dirname(clientAxiosPath), "package.json")).version,
      shared: clientAxiosPath === require.resolve("axios"),
    },
  };
  out.polite = await client.analyze(POLITE, { attributes: ["TOXICITY", "INSULT", "THREAT"] });
  // Lower case is what the client upper-cases itself.
  out.abusive = await client.analyze(ABUSIVE, { attributes: ["toxicity", "insult", "threat"] });

  out.spans = await client.analyze(
    { comment: { text: SPANNED }, spanAnnotations: true, clientToken: "node-client-1" },
    { attributes: ["TOXICITY", "INSULT"] }
  );
  out.spanned = {
    text: SPANNED,
    TOXICITY: slices(SPANNED, out.spans.attributeScores.TOXICITY.spanScores),
    INSULT: slices(SPANNED, out.spans.attributeScores.INSULT.spanScores),
  };

  out.html_spans = await client.analyze(
    { comment: { text: HTML, type: "HTML" }, spanAnnotations: true },
    { attributes: ["INSULT"], stripHTML: false }
  );
  out.html_spanned = { text: HTML, INSULT: slices(HTML, out.html_spans.attributeScores.INSULT.spanScores) };

  // HTML in a plain comment: the client strips the tags itself (its default) before sending.
  out.stripped = await client.analyze("<p>You <b>idiot</b>.</p>", { attributes: ["INSULT"] });

  // The request's own requestedAttributes (no `attributes` option): a threshold leaves an attribute out.
  out.threshold = await client.analyze({
    comment: { text: POLITE },
    requestedAttributes: { TOXICITY: { scoreThreshold: 0.9 }, INSULT: {} },
    languages: ["en"],
  });

  out.unknown_attribute = await refused(() => client.analyze("hello", { attributes: ["FLIRTATION"] }));
  out.unsupported_language = await refused(() =>
    client.analyze({ comment: { text: "bonjour à tous" }, languages: ["fr"] })
  );
  out.unknown_key = await refused(() => new Perspective({ apiKey: "not-a-key-of-this-service" }).analyze("hello"));

  out.redirected = redirected;
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + "\n");
  process.exit(1);
});
