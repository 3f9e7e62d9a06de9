# OneSeal page texts in English. Every key mirrors zh-CN.ftl (checked by a test).

site-name = OneSeal Government Services
site-bureau = Yinchuan Administrative Approval Bureau
skip-to-content = Skip to content
nav-home = Home
nav-services = Services
nav-progress = Track a case
nav-verify = Verify a licence
nav-disclosures = Public decisions
switch-language = 中文
switch-language-label = Switch to Chinese
large-mode-on = Large text
large-mode-off = Standard text
large-mode-label = Switch to large, high-contrast text
footer-note = Powered by the open-source OneSeal platform. Every licence is sealed electronically by the Yinchuan Administrative Approval Bureau and can be verified at any time.
footer-api = Open API
footer-keys = Seal public keys

verify-title = Verify a licence
verify-lead = No sign-in needed. Paste the text of a licence's QR code, type its electronic licence identifier, or upload the licence PDF downloaded from this site to check that it is genuine and see its current status.
verify-input-label = QR text or licence identifier
verify-input-hint = QR text starts with OS1:; an identifier looks like 1.2.156.3005.2.… and ends with a check character.
verify-submit = Verify
verify-pdf-legend = Or upload the licence PDF
verify-pdf-label = Licence PDF (at most 256 KB)
verify-pdf-submit = Upload and verify
verify-result = Result
verify-status-valid = Valid: the seal's signature checks out and the licence is in force.
verify-status-revoked = Revoked: the issuing authority has revoked this licence; it is no longer valid.
verify-status-cancelled = Cancelled: this licence has been cancelled; it is no longer valid.
verify-status-expired = Expired: this licence is past its validity period.
verify-status-amended = Amended: a newer version replaces this one; rely on the new version.
verify-status-bad_signature = Bad signature: the content was altered or was not issued by this authority. Do not rely on it.
verify-status-unknown = Not found: no licence with this identifier was issued here.
verify-superseded-by = New version
verify-field-license_name = Licence
verify-field-number = Licence number
verify-field-holder = Holder
verify-field-holder_code = Holder's code
verify-field-issuer = Issuing authority
verify-field-issued = Date of issue
verify-field-valid_to = Valid until
verify-field-identifier = Licence identifier
verify-permanent = Permanent
verify-public-note = Only public information is shown; personal identity numbers are never disclosed.
verify-compare-note = Compare each item with the paper licence.
verify-offline-note = You can also verify offline: the QR text is sealed CBOR data in a published format that OpenSSL can check.
verify-how = How verification works

error-title = Something went wrong
error-input-required = Enter the QR text or the licence identifier.
error-input-too-long = Too long: the QR text or identifier has at most 4,000 characters.
error-invalid-identifier = The identifier is malformed or its check character does not match; check it and try again.
error-pdf-required = Choose a PDF file to upload.
error-pdf-too-large = File too large: a licence PDF is at most 256 KB.
error-not-a-pdf = The file is not a PDF; upload the licence PDF downloaded from this site.
error-pdf-without-license = This PDF carries no licence data from this site; upload the licence PDF downloaded here, or scan the QR code on the licence.
error-not-found = Page not found
error-not-found-detail = The page you asked for does not exist or has moved.
error-internal = The system cannot handle your request right now; please try again later.
back-home = Back to home

## Home and service guides
nav-bundles = Life events
home-search-label = Search for a service
home-search-placeholder = e.g. business licence, open a restaurant, nurse practice
home-search-submit = Search
home-life-events = Services by topic
home-departments = Services by department
home-bundles = Several permits at once (one-stop bundles)
home-bundles-lead = One form, one submission, several permits handled together.
home-popular = Frequently used services
home-verify-lead = Scan or type a licence identifier to check that an electronic licence is genuine and valid.
services-title = Service guides
services-results = { $n ->
    [one] 1 service found
   *[other] { $n } services found
}
services-none = No service matches. Try another word, such as 餐饮 (catering) or 营业执照 (business licence).
services-filter-topic = Topic: { $v }
services-filter-department = Department: { $v }
services-filter-tag = Service tag: { $v }
services-clear = Clear filters
services-bundle-hit = Bundle
limit-working-days = { $n ->
    [one] 1 working day
   *[other] { $n } working days
}
limit-minutes = { $n ->
    [one] 1 minute
   *[other] { $n } minutes
}
limit-promised = Promised time limit
limit-statutory = Statutory time limit
visits-zero = No visit needed
visits-n = { $n ->
    [one] At most 1 visit
   *[other] At most { $n } visits
}
online-depth = Online service level { $n }
kind-licensing = Administrative licensing
kind-confirmation = Administrative confirmation
kind-benefit = Administrative benefit
kind-adjudication = Administrative adjudication
kind-award = Administrative award
kind-filing = Administrative filing
kind-other_power = Other administrative power
tag-on_the_spot = Done on the spot
tag-online = Online
tag-nearby = Nearby
tag-one_visit = One visit
tag-mobile = On your phone
handling-immediate = Done on the spot
handling-promised = Done within a promised time
hform-window = At a window
hform-online = Online
hform-post = By post
mform-original = Original
mform-copy = Copy
mform-original_and_copy = Original and copy
mform-electronic = Electronic
result-license = Licence
result-approval = Approval document
result-filing_receipt = Filing receipt
result-other = Other
guide-apply = Apply online
guide-apply-note = Sign in to apply online; you can also apply at any general window or partner bank branch.
guide-basic = Basic information
guide-impl-code = Implementation code
guide-base-code = Basic code
guide-kind = Type of service
guide-power-source = Source of the power
guide-level = Level
guide-department = Implementing body
guide-department-uscc = Implementing body's code
guide-handling = Handling
guide-limits = Time limits
guide-limit-notes = Notes on time limits
guide-max-extension = { $n ->
    [one] Extension of at most 1 working day
   *[other] Extension of at most { $n } working days
}
guide-legal-basis = Legal basis
guide-conditions = Conditions for acceptance
guide-materials = Materials
guide-material-name = Material
guide-material-form = Form
guide-material-count = Copies
guide-material-required = Required
guide-material-required-yes = Required
guide-material-required-no = Depending on the case
guide-material-key = Key material (cannot be pledged later)
guide-material-source = Source
guide-material-substitute = Not needed if you hold a valid electronic licence of type: { $v }
guide-blank-form = Blank form
guide-sample = Sample
guide-form-pdf = Application form (blank)
guide-form-sample-pdf = Application form (sample)
guide-process = Process
guide-flowchart = Process flowchart
guide-handling-forms = Ways to apply
guide-place = Where
guide-hours = Opening hours
guide-visits = Visits in person
guide-online-depth = Online service level
guide-online-url = Online address
guide-post = Results can be posted
guide-appointment = Appointments available
guide-yes = Yes
guide-no = No
guide-fees = Fees
guide-fees-none = Free of charge
guide-fee-amount = { $v } yuan
guide-consultation = Enquiries
guide-complaint = Complaints
guide-results = Results
guide-tags = Service tags
guide-topics = Topics
guide-version = Guide version
guide-bundle-items = Services included
guide-steps = Steps
form-title = Application form: { $v }
form-required-mark = (required)
form-materials = Materials attached
form-signature = Applicant (signature or stamp)
form-date = Date
form-watermark = SAMPLE 样表

## Sign-in and registration
nav-signin = Sign in
nav-register = Register
nav-me = My services
nav-signout = Sign out
signed-in-as = Signed in as { $v }
signin-title = Sign in
signin-lead = Sign in to apply online, follow your cases and see your licences. Staff sign in with their work account.
signin-username = Username
signin-password = Password
signin-totp = One-time code (staff with two-step sign-in)
signin-submit = Sign in
signin-no-account = No account yet?
signin-bad = Wrong username or password.
signin-throttled = Too many attempts; please try again later.
signin-totp-needed = Enter your one-time code.
register-title = Register a personal account
register-lead = Register with your own resident ID number. It is stored encrypted and shown only in part.
register-name = Name
register-resident-id = Resident ID number
register-resident-id-hint = 18 characters; the last may be X.
register-phone = Mobile number (optional)
register-password-hint = At least 10 characters.
register-submit = Register and sign in
register-have-account = Already registered?
error-forbidden = Not allowed
error-forbidden-detail = Your account may not open this page, or the page has expired; go back and try again.
error-field-username = A username has 3–32 letters, digits, dots, dashes or underscores, and must not be taken.
error-field-name = Enter your name (1–50 characters).
error-field-resident-id = The resident ID number is not valid (check its length and final check character).
error-field-person-exists = An account exists for this ID number; sign in instead.
error-field-phone = A mobile number has 11 digits starting with 1.
error-field-password = A password has at least 10 characters.
error-form-expired = The page has expired; please submit again.

## Apply online
apply-title = Apply online
apply-draft-note = Each step saves a draft; you can come back and continue at any time.
apply-steps = Steps of the application
apply-step-applicant = Applicant
apply-step-form = Form
apply-step-materials = Materials
apply-step-review = Review and submit
apply-who = Who is applying
apply-as-person = Myself: { $v }
apply-as-org = Organisation: { $v }
apply-next = Next
apply-back = Back
apply-choose = Choose
apply-upload-next = Upload and continue
apply-files-hint = PDF, JPG or PNG, at most 10 MB each. Upload again to replace a file.
apply-by-license = If you hold a valid electronic licence that proves this, it is used automatically; no upload needed.
apply-by-license-short = Proved by your electronic licence (if held)
apply-uploaded = Uploaded: { $v }
apply-not-uploaded = Not uploaded
apply-declaration = By submitting you declare that the information and materials are true and valid.
apply-submit = Submit
apply-errors = { $n ->
    [one] 1 thing needs changing; see the field marked in red.
   *[other] { $n } things need changing; see the fields marked in red.
}
apply-materials-missing = { $n ->
    [one] 1 required material is missing.
   *[other] { $n } required materials are missing.
}
apply-material-missing = Upload this material.
apply-file-type = Unsupported file: upload a PDF, JPG or PNG file.
apply-file-too-large = File too large: at most 10 MB each.
apply-file-failed = The upload failed; please try again.
apply-no-profile = We cannot tell who is applying: complete your profile or choose an organisation you act for.
apply-not-allowed = You may not apply for the chosen organisation; choose yourself or an organisation that authorised you.
apply-submit-failed = The submission did not go through; please try again later. Your draft is saved.
field-hint-uscc = The 18-character unified social credit code.
field-hint-resident-id = The 18-character resident ID number; the last may be X.
field-hint-phone = An 11-digit mobile number.
field-hint-region = A 6-digit region code, e.g. 640106.
field-hint-date = A date, e.g. 2026-03-02.
field-error-required = This is required.
field-error-type = This is not in the right format.
field-error-too_long = This is too long.
field-error-range = This number is out of the allowed range.
field-error-choice = Choose one of the options.
field-error-date = Enter a date such as 2026-03-02.
field-error-phone = A mobile number has 11 digits starting with 1.
field-error-uscc = The unified social credit code is not valid (check its length and check character).
field-error-resident_id = The resident ID number is not valid (check its length and final check character).
field-error-region_code = A region code has 6 digits.
field-error-unknown_field = The form has no such field.
receipt-title = Application submitted
receipt-lead = Your application is submitted; the time limit starts when a window accepts it.
receipt-case-no = Case number
receipt-query-code = Query code
receipt-service = Service
receipt-promised = Expected completion (if accepted today)
receipt-keep-code = Keep the case number and query code: with them you can check progress without signing in. The query code is shown only this once.
receipt-follow = Follow the case

## My services and progress
me-cases = My cases
me-no-cases = You have no cases yet.
me-status = Status
me-submitted = Submitted
me-deadline = Promised completion
me-drafts = Drafts not yet submitted
me-draft-saved = saved { $v }
me-licenses = My licences
me-no-licenses = You have no electronic licences yet.
me-download-pdf = Download PDF
me-notifications = Notifications
me-no-notifications = No notifications.
me-clock = Time used
me-current-step = Current step: { $v }
me-trail = How the case was handled (open approval)
status-submitted = Waiting for acceptance
status-awaiting_correction = Waiting for your correction
status-in_progress = In progress
status-suspended = Clock paused
status-completed = Completed
status-refused = Not accepted
status-withdrawn = Withdrawn
status-terminated = Terminated
license-status-valid = Valid
license-status-revoked = Revoked
license-status-cancelled = Cancelled
license-status-superseded = Amended
outcome-grant = Granted
outcome-deny = Denied
event-submitted = Application submitted
event-correction_requested = Correction requested (one-time notice)
event-corrected = Correction submitted
event-accepted = Accepted
event-refused = Not accepted
event-pledge_fulfilled = Pledged material handed in
event-step_started = Step started
event-task_claimed = Task claimed
event-task_reassigned = Task reassigned
event-task_completed = Task done
event-tasks_cancelled = Tasks closed
event-step_completed = Step completed
event-sent_back = Sent back
event-suspended = Clock paused
event-resumed = Clock resumed
event-extended = Time limit extended
event-decided = Decision made
event-licenses_issued = Licences issued
event-delivered = Delivered
event-filing_recorded = Filing recorded
event-completed = Completed
event-withdrawn = Withdrawn
event-terminated = Terminated
timeline-you = You
timeline-due = due { $v }
timeline-deadline = promised completion { $v }
clock-elapsed = { $n ->
    [one] 1 working day used
   *[other] { $n } working days used
}
clock-remaining = { $n ->
    [one] 1 working day left
   *[other] { $n } working days left
}
clock-overdue = { $n ->
    [one] 1 working day late
   *[other] { $n } working days late
}
clock-paused = the clock is paused
clock-not-started = The clock starts at acceptance
correct-title = Please correct your application
correct-lead = The window has listed everything that needs correcting, all at once. Upload or change what is asked and submit; the case is then accepted again.
correct-submit = Submit the correction
correct-invalid = The corrected values are not in the right format; check them and submit again.
correct-failed = The correction did not go through; please try again later.
withdraw-title = Withdraw the application
withdraw-reason = Reason (optional)
withdraw-submit = Withdraw
withdraw-default-reason = Withdrawn by the applicant
withdraw-failed = The case cannot be withdrawn now.
progress-lead = Check a case's progress without signing in: enter its case number and query code from the receipt.
progress-submit = Check
progress-missing = Enter the case number and the query code.
progress-not-found = No case matches this number and query code.
progress-current = Current step
progress-passed = Steps done
progress-outcome = Result

## Workbench
nav-work = Workbench
work-intake = To accept
work-to-claim = To claim
work-mine = Mine
work-due-soon = Due soon
work-overdue = Overdue
work-views = Work lists
work-search = Find by case number or service name
work-empty = Nothing to do here.
work-step = Step
work-due = Step due
work-who = Handler / service point
work-today = Today is { $v }.
work-applicant = Applicant
work-applicant-kind = Applicant type
work-kind-person = Natural person
work-kind-organisation = Organisation
work-applicant-id = ID number (masked)
work-applicant-phone = Phone (masked)
work-channel = Channel
work-by-license = Proved by an electronic licence: { $v }
work-actions = What you can do
work-no-actions = There is nothing you can do on this case now.
work-pledge = Accept with a pledge: { $v } later
work-pledge-due = Pledged material due by
work-reasons = Reasons (one per line)
work-reasons-optional = Reasons (optional, one per line)
work-correction-hint = One-time notice: list everything that needs correcting; a second notice is not allowed.
work-problem-subject = What
work-problem-message = What is needed
work-opinion = Opinion
work-reassign-to = Reassign to (staff username)
work-send-back-to = Send back to
work-suspend-kind = Reason for pausing the clock (time not counted)
work-expected-days = Expected working days
work-extend-days = Working days to add
work-outcome = Decision
work-delivery = Delivery
work-window = Pickup window (for pickup)
work-address = Postal address (for post)
work-stale = Someone else updated the case; look at its current state and try again.
work-unknown-action = This action is not supported.
delivery-electronic = Electronic
delivery-pickup = Pickup at a window
delivery-post = By post
action-accept = Accept
action-refuse = Refuse to accept
action-request-correction = Ask for a correction (one-time notice)
action-claim = Claim
action-complete = Approve this step
action-reassign = Reassign
action-send-back = Send back
action-suspend = Pause the clock
action-resume = Resume the clock
action-extend = Extend the time limit
action-decide = Decide
action-issue-licenses = Issue the licences
action-deliver = Deliver
action-terminate = Terminate
channel-online = Online
channel-mobile = Mobile
channel-kiosk = Kiosk
channel-window = General window
channel-bank = Bank branch
channel-hotline = 12345 hotline
channel-api = API
suspension-expert_review = Expert review
suspension-inspection = Inspection
suspension-testing = Testing
suspension-hearing = Hearing
suspension-appraisal = Appraisal
suspension-quarantine = Quarantine
suspension-tendering = Tendering
suspension-auction = Auction
work-reason = Reason
work-digest = File digest SHA-256 { $v }…

## General window
nav-window = General window
window-lead = Any general window accepts any service: find the service, enter a walk-in applicant's application, scan the materials, accept on the spot and print the acceptance notice.
window-intake-link = Online applications waiting for acceptance
window-walk-in = Walk-in application
window-applicant-name = Applicant's name or organisation
window-id-number = ID number or unified social credit code
window-id-hint = Enter after checking the applicant's identity document: the 18-character resident ID number for a person, the unified social credit code for an organisation.
window-bad-id = The ID number is not valid (check its length and check character).
window-scans = Scanned materials
window-scanned = Scanned and uploaded
window-check-fields = Check the fields marked in red; scans already uploaded are kept.
window-submit-accept = Register and accept now
window-submit-only = Register only
window-acceptance-notice = Print the acceptance notice
window-correction-notice = Print the one-time correction notice

## Kiosk
kiosk-title = Self-service
kiosk-lead = Touch a button below. The kiosk returns to this page after a while without use.
kiosk-home = Start
kiosk-services = Find a service
kiosk-services-hint = Find a service by name or topic; see the materials and the process.
kiosk-progress-hint = Enter a case number and query code to see its progress.
kiosk-apply = Apply here
kiosk-apply-hint = Services done on the spot: sign in and apply yourself.

## Administration
nav-admin = Administration
admin-staff = Staff
admin-done = Saved: { $v }
admin-roles = Roles
admin-role = Role
admin-post = Post (service point and window)
admin-active = Active
admin-inactive = Deactivated
admin-create = Create a staff account
admin-initial-password = Initial password (at least 12 characters)
admin-no-department = No department
admin-grant-revoke = Grant or revoke a role
admin-grant = Grant
admin-revoke = Revoke
admin-service-point = Service point (e.g. citizens' hall)
admin-window = Window (e.g. A12)
admin-save = Save
admin-deactivate = Deactivate an account
admin-edit-item = Revise a service guide
admin-item-lead = { $n ->
    [one] Version 1 is published.
   *[other] Version { $n } is published.
} Review the change first, then publish it as a new version with a reason; published versions never change, and accepted cases keep theirs.
admin-item-body = The service (JSON)
admin-item-reason-label = Reason for the revision
admin-item-review = Review the change
admin-item-publish = Publish the new version
admin-item-changes = Changes
admin-item-json = The content is not valid: { $v }
admin-item-code = The implementation code cannot change.
admin-item-unchanged = Nothing changed.
admin-item-reason = Give a reason for the revision.
role-window_clerk = Window clerk
role-reviewer = Reviewer
role-approver = Approver
role-inspector = Inspector
role-supervisor = Supervisor
role-regulator = Regulator
role-hotline_operator = 12345 operator
role-handling_unit = Handling unit
role-administrator = Administrator
work-count-many = 1000+
me-live-note = This page updates the status every 30 seconds.

## Electronic supervision
nav-supervision = Supervision
supervision-lead = Every case's and step's clock is watched: yellow at 80 % of the limit or with 2 working days left, red when overdue; cases without action, overdue pledged materials, and handling that breaks the rules (one-time correction notice, acceptance within 5 days, required steps, decisions by approvers only) raise alerts with their evidence.
supervision-sweep = Sweep now
supervision-swept = Sweep done: { $v } new alerts.
supervision-summary = Open alerts by department
supervision-none = No open alerts.
supervision-alerts = Alerts
supervision-open = Open
supervision-closed = Closed
supervision-kind = Kind
supervision-all-kinds = All kinds
supervision-note = Note: { $v }
supervision-close-note = Note on what was done
supervision-close = Close
alert-yellow = Yellow: deadline near
alert-red = Red: overdue
alert-stalled = No action
alert-pledge_overdue = Pledged material overdue
alert-second_correction = Second correction notice
alert-late_acceptance = Late acceptance
alert-skipped_steps = Required steps skipped
alert-unauthorised_decision = Decision without authority
alert-reopened = Activity after completion
