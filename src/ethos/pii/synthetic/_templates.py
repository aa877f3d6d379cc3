"""Sentence templates: ``{ENTITY}`` slots are labelled PII, ``{lower_case}`` slots are unlabelled decoys."""

from __future__ import annotations

__all__ = ["TEMPLATES"]

TEMPLATES: tuple[str, ...] = (
    # people, places, organisations
    "Hi, my name is {PERSON} and I live in {LOCATION}.",
    "{PERSON} joined {ORGANIZATION} as a data engineer last spring.",
    "Please forward the contract to {PERSON} at {EMAIL_ADDRESS} before Friday.",
    "Meeting notes: {PERSON} and {PERSON} disagreed about the {LOCATION} office budget.",
    "The patient, a {AGE}-year-old {NRP} woman, was referred by {PERSON}.",
    "{PERSON} ({AGE} years old) moved from {LOCATION} to {LOCATION} in search of work.",
    "As a {NRP} family we celebrated with friends from {ORGANIZATION}.",
    "Dear {PERSON}, thank you for your application to {ORGANIZATION}.",
    "Interview with {PERSON}, aged {AGE}, recorded in {LOCATION}.",
    "I'm {PERSON}, you can text me on {PHONE_NUMBER} anytime.",
    # contact details
    "Contact {PERSON} by phone at {PHONE_NUMBER} or by email at {EMAIL_ADDRESS}.",
    "Customer callback requested: {PHONE_NUMBER}.",
    "{PERSON}: {PHONE_NUMBER}",
    "Send the invoice to {EMAIL_ADDRESS}, cc {EMAIL_ADDRESS}.",
    "Our new website is {URL}, and the blog moved to {URL}.",
    "Shipping address: {STREET_ADDRESS}, {LOCATION} {ZIP_CODE}.",
    "She lives at {STREET_ADDRESS} with her two cats.",
    "Please update my mailing address to {STREET_ADDRESS}, zip code {ZIP_CODE}.",
    "{ORGANIZATION} opened a new branch at {STREET_ADDRESS} last month.",
    "Reach our support line at {PHONE_NUMBER} or visit {URL}.",
    # identifiers and finance
    "My social security number is {US_SSN} and my date of birth is {DATE_TIME}.",
    "SSN: {US_SSN}",
    "Please charge my credit card {CREDIT_CARD} for the order {order_id}.",
    "Card number {CREDIT_CARD}, holder {PERSON}.",
    "Wire the deposit to IBAN {IBAN_CODE} by {DATE_TIME}.",
    "Refunds go to account {IBAN_CODE} (holder: {PERSON}).",
    "His passport number is {US_PASSPORT} and it expires on {DATE_TIME}.",
    "Driver's license {US_DRIVER_LICENSE} was issued to {PERSON} in {LOCATION}.",
    "Send 0.5 BTC to wallet {CRYPTO} and confirm by email.",
    "The donation address is {CRYPTO}.",
    "Born on {DATE_TIME} in {LOCATION}, {PERSON} studied at {ORGANIZATION}.",
    "Applicant {PERSON}, DOB {DATE_TIME}, SSN {US_SSN}, phone {PHONE_NUMBER}.",
    # technical text with secrets and addresses
    "Failed login for {EMAIL_ADDRESS} from {IP_ADDRESS} on port {port}.",
    "Connection from {IP_ADDRESS} rejected after {count} attempts.",
    "export AWS_ACCESS_KEY_ID={API_KEY}",
    "Use this token for the CI job: {API_KEY}",
    "db_password = {SECRET}",
    "The admin password is {SECRET} until we rotate it.",
    "Webhook {URL} returned 500; the API key {API_KEY} was revoked.",
    "User {PERSON} ({EMAIL_ADDRESS}) reset the password to {SECRET}.",
    "Server {IP_ADDRESS} is serving {URL} since version {version}.",
    # no PII, but PII-looking decoys
    "Order {order_id} shipped in {count} boxes; total {amount} USD.",
    "Upgraded the cluster to version {version}; {percent} of nodes restarted.",
    "[{timestamp}] INFO worker-{count} processed {count} jobs in {count} ms",
    "[{timestamp}] WARN cache miss ratio {percent} on shard {count}",
    "Commit {sha} fixes {ticket}; see also build {count}.",
    "Request {uuid} completed with status 200 in {count} ms.",
    "Item {sku} is back in stock: {count} units at {amount} each.",
    "The meeting moved to room {count} on the third floor.",
    "Ticket {ticket} was closed as a duplicate of {ticket}.",
    "Thanks for the quick reply, that solves it!",
    "Deploy {version} to staging after the tests pass.",
    "Invoice {order_id} for {amount} EUR is due next week.",
)
