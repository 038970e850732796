// Sends what Coral Talk's server sends, built the way its own source builds it (coralproject/talk, server/src/core/
// server/...):
//   - services/perspective/perspective.ts: the body of comments:analyze (one requested attribute, the tenant's
//     "model", doNotStore, the language of the tenant's locale) and of comments:suggestscore (the moderator's
//     decision as 0 or 1, a context entry holding a JSON string of the comment's URL and ids, the community
//     "Coral:<tenant URL>", the client token "comment:<id>"), POSTed to the configured custom endpoint joined with
//     the operation, the key in `?key=`, as "Coral Perspective/<version>";
//   - services/comments/pipeline/phases/toxic.ts: what Coral does with the analyze answer (the model's summary score
//     above the tenant's threshold, 0.8 by default, withholds the comment);
//   - services/comments/pipeline/phases/external.ts, services/fetch/fetch.ts (generateFetchOptions) and
//     models/settings (generateSignatures): the external moderation phase's request, serialized with
//     JSON.stringify(data, null, 2), signed with HMAC-SHA256 of that exact string under each active signing secret
//     (oldest first, as Coral keeps them) as "sha256=<hex>" joined by commas, sent with fetch as
//     "Coral Moderation/<version>" without following redirects.
//
// Reads a JSON list of steps on stdin; prints one JSON list with, for each, the status, the parsed body and what
// was sent (the phase's exact body string, so the test can find the comment it became).
"use strict";

const crypto = require("crypto");
const path = require("path");

const base = (process.argv[2] || process.env.BASE_URL || "").replace(/\/+$/, "");
if (!base) {
  process.stderr.write("usage: node coral_requests.js BASE_URL < steps.json (or BASE_URL in the env)\n");
  process.exit(2);
}

const CORAL_VERSION = "9.7.0";
const TIMEOUT_MS = 10000; // Coral's default for its fetches and Perspective requests
const TOXICITY_THRESHOLD_DEFAULT = 0.8;

// Coral's tenant locale (BCP 47) to the language Perspective is asked for; anything else is English.
const PERSPECTIVE_LANGUAGE = { "en-US": "en", es: "es", "fr-FR": "fr", de: "de", "pt-BR": "pt" };
const languageOf = (locale) => PERSPECTIVE_LANGUAGE[locale] || "en";

// The story URL with the comment's id in its query (Coral's getURLWithCommentID).
function urlWithCommentID(storyURL, commentID) {
  const url = new URL(storyURL);
  url.searchParams.set("commentID", commentID);
  return url.toString();
}

function perspectiveBody(step) {
  const model = step.model || "TOXICITY";
  const languages = [languageOf(step.locale || "en-US")];
  if (step.kind === "analyze") {
    return {
      comment: { text: step.text },
      doNotStore: step.doNotStore === undefined ? true : step.doNotStore,
      requestedAttributes: { [model]: {} },
      languages,
    };
  }
  return {
    comment: { text: step.text },
    context: {
      entries: [
        {
          // JSON.stringify drops reply_to_id_Coral_comment_id when the comment is not a reply (undefined).
          text: JSON.stringify({
            url: urlWithCommentID(step.storyURL, step.commentID),
            reply_to_id_Coral_comment_id: step.parentID,
            Coral_comment_id: step.commentID,
          }),
        },
      ],
    },
    attributeScores: { [model]: { summaryScore: { value: step.commentStatus === "APPROVED" ? 0 : 1 } } },
    languages,
    communityId: `Coral:${step.tenantURL}`,
    clientToken: `comment:${step.commentID}`,
  };
}

// The custom endpoint (e.g. http://moderation:8080/v1alpha1) joined with the operation, the key as a parameter.
function perspectiveURL(endpoint, operation, key) {
  const url = new URL(endpoint.trim());
  url.pathname = path.posix.join(url.pathname, `/${operation}`);
  url.searchParams.set("key", key.trim());
  return url.toString();
}

async function sendToPerspective(step) {
  const operation = step.kind === "analyze" ? "comments:analyze" : "comments:suggestscore";
  const body = JSON.stringify(perspectiveBody(step));
  const response = await fetch(perspectiveURL(step.endpoint || `${base}/v1alpha1`, operation, step.key), {
    method: "POST",
    headers: { "User-Agent": `Coral Perspective/${CORAL_VERSION}`, "Content-Type": "application/json" },
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const answer = await read(response);
  if (step.kind === "analyze" && response.ok) {
    // The toxic phase: the model's summary score above the threshold withholds the comment.
    const model = step.model || "TOXICITY";
    const score = answer.body.attributeScores[model].summaryScore.value;
    answer.coral = { score, withheld: score > (step.threshold ?? TOXICITY_THRESHOLD_DEFAULT) };
  }
  return answer;
}

function phaseRequest(step) {
  return {
    action: step.action || "NEW",
    comment: { body: step.body, parentID: step.parentID || null },
    author: { id: step.authorID, role: "COMMENTER" },
    story: { id: step.storyID, url: step.storyURL },
    site: { id: step.siteID },
    tenantID: step.tenantID,
    tenantDomain: step.tenantDomain,
  };
}

function signatureHeader(secrets, body) {
  return secrets
    .map((secret) => crypto.createHmac("sha256", secret).update(body).digest().toString("hex"))
    .map((signature) => `sha256=${signature}`)
    .join(",");
}

async function sendToPhase(step) {
  const body = JSON.stringify(phaseRequest(step), null, 2);
  const headers = { "User-Agent": `Coral Moderation/${CORAL_VERSION}`, "Content-Type": "application/json" };
  if (step.secrets.length > 0) {
    headers["X-Coral-Signature"] = signatureHeader(step.secrets, body);
  }
  // `tamper`: a body changed after it was signed (a proxy rewriting it, or a forgery) must not pass.
  const sent = step.tamper ? body.replace(step.tamper[0], step.tamper[1]) : body;
  const response = await fetch(`${base}/v1/coral/moderation`, {
    method: "POST",
    headers,
    body: sent,
    redirect: "manual",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { ...(await read(response)), sent };
}

async function read(response) {
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const steps = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const answers = [];
  for (const step of steps) {
    answers.push(step.kind === "phase" ? await sendToPhase(step) : await sendToPerspective(step));
  }
  process.stdout.write(JSON.stringify(answers));
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + "\n");
  process.exit(1);
});
