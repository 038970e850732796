// Calls this service with the npm package `perspective-api-client` (the client Node apps use for Perspective).
// Its URL is fixed to Google's, so an axios interceptor sends each of its requests to BASE_URL instead (the
// package and this script share one axios). Prints one JSON document with what came back.
"use strict";

const axios = require("axios");
const Perspective = require("perspective-api-client");

const base = process.env.BASE_URL;
const key = process.env.API_KEY;
const GOOGLE = "https://commentanalyzer.googleapis.com";

axios.interceptors.request.use((config) => {
  if (config.url.startsWith(GOOGLE)) {
    config.url = base + config.url.slice(GOOGLE.length);
  }
  return config;
});

// A text with an emoji (two UTF-16 code units) before the abuse, so offsets in code points would be off by one.
const SPANNED = "Thanks for the piece on the talks 🙂. You are a worthless idiot! See you.";

function substrings(text, spans) {
  return (spans || []).map((span) => text.substring(span.begin, span.end));
}

async function main() {
  const client = new Perspective({ apiKey: key });
  const out = {};
  out.polite = await client.analyze("Thanks for the balanced article on the talks in Tehran.", {
    attributes: ["TOXICITY", "INSULT", "THREAT"],
  });
  out.abusive = await client.analyze("You are a worthless idiot and everyone here despises you.", {
    attributes: ["toxicity", "insult", "threat"],
  });
  out.spans = await client.analyze(
    { comment: { text: SPANNED }, spanAnnotations: true, clientToken: "node-client-1" },
    { attributes: ["TOXICITY", "INSULT"] }
  );
  out.spanned_text = SPANNED;
  out.span_substrings = substrings(SPANNED, out.spans.attributeScores.TOXICITY.spanScores);
  // HTML, stripped by the client itself before sending (its default).
  out.html = await client.analyze("<p>You <b>idiot</b>.</p>", { attributes: ["INSULT"] });
  try {
    await client.analyze("hello", { attributes: ["FLIRTATION"] });
    out.unknown_attribute = { error: null };
  } catch (error) {
    out.unknown_attribute = {
      error: error.name,
      message: error.message,
      status: error.response && error.response.status,
      google_status: error.response && error.response.data.error.status,
    };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + "\n");
  process.exit(1);
});
