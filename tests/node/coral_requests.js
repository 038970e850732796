// Sends what Coral Talk sends, built as Coral's own server builds it (coralproject/talk: the Perspective service's
// formatBody, and the external moderation phase's request with generateFetchOptions and generateSignatures):
//   - comments:analyze and comments:suggestscore to its "custom endpoint", the key in the URL;
//   - the external moderation phase's request, serialized with JSON.stringify(data, null, 2) and signed with
//     HMAC-SHA256 under each active secret, "sha256=<hex>" joined by commas.
// Reads a JSON list of steps on stdin, prints the answers (status and body) as one JSON list.
"use strict";

const crypto = require("crypto");

const base = process.env.BASE_URL;

function analyzeBody(text) {
  return { comment: { text }, doNotStore: true, requestedAttributes: { TOXICITY: {} }, languages: ["en"] };
}

function suggestBody(step) {
  return {
    comment: { text: step.text },
    context: {
      entries: [
        {
          text: JSON.stringify({
            url: `${step.storyURL}?commentID=${step.commentID}`,
            reply_to_id_Coral_comment_id: step.parentID,
            Coral_comment_id: step.commentID,
          }),
        },
      ],
    },
    attributeScores: { TOXICITY: { summaryScore: { value: step.status === "APPROVED" ? 0 : 1 } } },
    languages: ["en"],
    communityId: `Coral:${step.tenantURL}`,
    clientToken: `comment:${step.commentID}`,
  };
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

function signatures(secrets, body) {
  return secrets
    .map((secret) => crypto.createHmac("sha256", secret).update(body).digest().toString("hex"))
    .map((signature) => `sha256=${signature}`)
    .join(",");
}

async function send(step) {
  if (step.kind === "analyze" || step.kind === "suggestscore") {
    const url = new URL(`${base}/v1alpha1/comments:${step.kind}`);
    url.searchParams.set("key", step.key);
    const body = JSON.stringify(step.kind === "analyze" ? analyzeBody(step.text) : suggestBody(step));
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  }
  const body = JSON.stringify(phaseRequest(step), null, 2);
  return fetch(`${base}/v1/coral/moderation`, {
    method: "POST",
    headers: {
      "User-Agent": "Coral Moderation/9.0.0",
      "Content-Type": "application/json",
      "X-Coral-Signature": signatures(step.secrets, body),
    },
    body,
    redirect: "manual",
  });
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const steps = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const answers = [];
  for (const step of steps) {
    const response = await send(step);
    const text = await response.text();
    answers.push({ status: response.status, body: text ? JSON.parse(text) : null });
  }
  process.stdout.write(JSON.stringify(answers));
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + "\n");
  process.exit(1);
});
