#!/usr/bin/env python3
"""Build the Flywheel demo dataset (synthetic, written for this project).

Domain: the internal help centre of "Alder Health", a fictional mid-size health
insurer. The corpus is deliberately full of near-duplicates (same plan, other
year; same year, other plan) and acronym collisions (PA, OOP, EOB, COB, ER, PCP,
DME, HSA/HRA/FSA) so that a generic sentence-embedding model struggles.

Deterministic (seeded), standard library only. Run:

    python data/build_demo.py            # writes data/demo/

Outputs (BEIR layout): corpus.jsonl, queries.jsonl, qrels/train.tsv,
qrels/test.tsv, hard_negatives.tsv, README.md.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

SEED = 20250611
rng = random.Random(SEED)

OUT = Path(__file__).resolve().parent / "demo"

YEARS = [2023, 2024, 2025, 2026]  # 2023 pages are kept as archived versions
METALS = ["Bronze", "Silver", "Gold", "Platinum"]
NETS = ["HMO", "PPO"]

DOCS: dict[str, dict] = {}       # key -> {title, text, metadata}
QUERIES: list[tuple[str, dict[str, int]]] = []  # (text, {doc_key: grade})


def add_doc(key: str, title: str, text: str, **metadata) -> None:
    assert key not in DOCS, key
    if metadata.get("year") == 2023:
        metadata["archived"] = True
    DOCS[key] = {"title": title, "text": " ".join(text.split()), "metadata": metadata}


def add_query(text: str, judgments: dict[str, int]) -> None:
    QUERIES.append((text, judgments))


def money(x: int) -> str:
    return f"${x:,}"


def r50(x: float) -> int:
    return int(round(x / 50.0)) * 50


def r5(x: float) -> int:
    return int(round(x / 5.0)) * 5


CLOSERS = [
    "Questions? Call Member Services at the number on the back of your ID card, 7am to 7pm Pacific, Monday through Saturday.",
    "You can also find this information in the Alder Health app under Plan > Benefits.",
    "Members can chat with a benefits specialist from the member portal on weekdays.",
    "The Summary of Benefits and Coverage (SBC) is the official source if anything here differs.",
    "Agents: log the member's question under the matching help-centre article when you close the call.",
    "If a member disagrees with how a claim was processed, point them to the appeals article.",
    "This article is reviewed every plan year by the Benefits Content team.",
]

# ---------------------------------------------------------------------------
# 1. Plan documents: metal x network x year x doc type (near-duplicates)
# ---------------------------------------------------------------------------
BASE = {
    #           ded   oopmax coins pcp spec urg  er  tele gen pref nonp spc spcmax prem40
    "Bronze":   (7200, 9200, 40, 60, 120, 100, 600, 30, 25, 75, 150, 50, 500, 380),
    "Silver":   (4800, 8000, 30, 40, 80, 75, 450, 20, 15, 50, 100, 40, 400, 510),
    "Gold":     (1800, 6200, 20, 25, 50, 50, 300, 10, 10, 35, 70, 30, 300, 640),
    "Platinum": (400, 3500, 10, 10, 30, 30, 150, 0, 5, 20, 45, 20, 200, 780),
}
YEAR_FACTOR = {2023: 0.95, 2024: 1.0, 2025: 1.05, 2026: 1.10}


def hsa_eligible(metal: str, net: str, year: int) -> bool:
    if metal == "Bronze":
        return True
    if metal == "Silver" and net == "PPO" and year >= 2025:
        return True
    return False


PLAN: dict[tuple, dict] = {}
for metal in METALS:
    b = BASE[metal]
    for net in NETS:
        for year in YEARS:
            f = YEAR_FACTOR[year] * rng.uniform(0.97, 1.04)
            hm = 0.85 if net == "HMO" else 1.0
            ded = r50(b[0] * f * hm)
            oop = min(r50((b[1] - (500 if net == "HMO" else 0)) * f), 10150)
            bump = {2023: 0, 2024: 0, 2025: 5, 2026: 10}[year] * rng.choice([0, 1, 1])
            cop = lambda v: max(0, r5(v * (0.9 if net == "HMO" else 1.0)) + (bump if v else 0))
            p = dict(
                ded=ded, oop=oop, coins=b[2] + (5 if (year == 2026 and metal == "Bronze") else 0),
                oon_ded=ded * 2 if net == "PPO" else None,
                pcp=cop(b[3]), spec=cop(b[4]), urg=cop(b[5]), er=r50(b[6] * f),
                tele=cop(b[7]) if b[7] else 0,
                gen=b[8] + (5 if year == 2026 and metal in ("Bronze", "Silver") else 0),
                pref=r5(b[9] * f), nonp=r5(b[10] * f), spc=b[11], spcmax=r50(b[12] * f),
                prem=int(round(b[13] * (0.9 if net == "HMO" else 1.0) * {2023: 0.95, 2024: 1, 2025: 1.06, 2026: 1.13}[year] * rng.uniform(0.98, 1.02))),
            )
            PLAN[(metal, net, year)] = p


def plan_key(kind, metal, net, year):
    return f"plan-{kind}-{metal}-{net}-{year}".lower()


METAL_DESC = {
    "Bronze": "Bronze is Alder's lowest-premium metal level, built mainly to protect you from very large medical bills.",
    "Silver": "Silver is Alder's middle metal level, balancing a moderate premium with moderate costs when you get care.",
    "Gold": "Gold is a higher-premium metal level with lower costs when you get care, a good fit if you see doctors often.",
    "Platinum": "Platinum is Alder's highest-premium metal level, with the lowest costs when you get care.",
}
NET_DESC = {
    "HMO": "As an HMO it uses the Alder Connect network, and your primary care provider coordinates your care.",
    "PPO": "As a PPO it uses the statewide Alder Choice network and you can see specialists without a referral.",
}


def with_glance(metal, net, body):
    text = f"About this plan: {METAL_DESC[metal]} {NET_DESC[net]} {body.strip()}"
    closer = rng.choice(CLOSERS)
    if len((text + " " + closer).split()) <= 150:
        text += " " + closer
    return text


for (metal, net, year), p in PLAN.items():
    prev = PLAN.get((metal, net, year - 1))
    name = f"{metal} {net}"
    meta = dict(product=f"{metal} {net}", year=year, category="plan-summary")
    # --- A: deductible and out-of-pocket maximum
    title = rng.choice([
        f"{name} {year} — deductible and out-of-pocket maximum",
        f"{year} {name} plan: deductible & out-of-pocket max",
        f"Alder {name} ({year}) deductible and OOP maximum",
    ])
    netnote = (
        "Because this is an HMO, only in-network care counts toward these amounts; out-of-plan care is not covered except emergencies and approved referrals."
        if net == "HMO" else
        f"Out-of-network care has a separate deductible of {money(p['oon_ded'])} and 50% coinsurance, and it does not count toward the in-network maximum."
    )
    if prev:
        d = p["ded"] - prev["ded"]
        change = (f"Compared with {year - 1}, the individual deductible went {'up' if d >= 0 else 'down'} by {money(abs(d))}."
                  if d else f"The individual deductible is unchanged from {year - 1}.")
    else:
        change = f"Amounts reset on January 1, {year}."
    opener = rng.choice([
        f"For the {year} plan year, the Alder {name} has an annual deductible of {money(p['ded'])} for an individual and {money(2 * p['ded'])} for a family.",
        f"In {year}, members on {name} pay the first {money(p['ded'])} of covered care each year (family: {money(2 * p['ded'])}) before coinsurance starts.",
        f"The {year} {name} deductible is {money(p['ded'])} per person, capped at {money(2 * p['ded'])} per family.",
    ])
    text = (f"{opener} After the deductible you pay {p['coins']}% coinsurance until you reach the out-of-pocket maximum of "
            f"{money(p['oop'])} for an individual or {money(2 * p['oop'])} for a family. Copays for office visits and prescriptions "
            f"count toward the out-of-pocket maximum but not toward the deductible. {netnote} {change}")
    text = with_glance(metal, net, text)
    add_doc(plan_key("ded", metal, net, year), title, text, **meta, topic="deductible")

    # --- B: visit and emergency copays
    title = rng.choice([
        f"{name} {year} — office visit, urgent care and ER copays",
        f"{year} {name}: what you pay for visits",
        f"Copays for doctor visits on {name} ({year})",
    ])
    after = " after the deductible" if metal == "Bronze" else ""
    ref = ("Specialist visits need a referral from your PCP." if net == "HMO"
           else "You can see in-network specialists without a referral.")
    text = (f"On the {year} {name} plan, a visit to your primary care provider costs {money(p['pcp'])} and a specialist visit costs "
            f"{money(p['spec'])}{after}. {ref} Urgent care is {money(p['urg'])} per visit and a virtual visit through Alder Telehealth is "
            f"{money(p['tele']) if p['tele'] else 'free'}. An emergency room visit costs {money(p['er'])}; the ER copay is waived if you are "
            f"admitted to the hospital. Preventive care such as annual physicals and screenings is covered at no cost in network. "
            f"")
    text = with_glance(metal, net, text)
    add_doc(plan_key("visits", metal, net, year), title, text, **meta, topic="copays")

    # --- C: prescription drugs
    title = rng.choice([
        f"{name} {year} — prescription drug costs by tier",
        f"Prescription coverage: {name} plan, {year}",
        f"{year} {name} pharmacy benefits and drug tiers",
    ])
    text = (f"Prescription costs on {name} for {year}, per 30-day supply at an in-network pharmacy: Tier 1 generics {money(p['gen'])}, "
            f"Tier 2 preferred brands {money(p['pref'])}, Tier 3 non-preferred brands {money(p['nonp'])}. Tier 4 specialty drugs are "
            f"{p['spc']}% coinsurance up to {money(p['spcmax'])} per fill and must be filled through Alder Specialty Pharmacy. "
            f"A 90-day supply by mail order costs two and a half times the 30-day copay. "
            f"{'Brand and specialty drugs are subject to the deductible first.' if metal == 'Bronze' else 'Generics are not subject to the deductible.'} "
            f"Check the {year} formulary for which tier your medication is on.")
    text = with_glance(metal, net, text)
    add_doc(plan_key("rx", metal, net, year), title, text, **meta, topic="pharmacy")

    # --- D: premiums and HSA/HRA
    title = rng.choice([
        f"{name} {year} — monthly premiums and account eligibility",
        f"{year} premiums for the {name} plan",
        f"How much {name} costs per month in {year}",
    ])
    acct = ("This plan is a qualified high-deductible health plan, so members can contribute to a health savings account (HSA)."
            if hsa_eligible(metal, net, year) else
            ("This plan includes an Alder-funded health reimbursement arrangement (HRA) of $500 per person."
             if metal in ("Gold", "Platinum") else
             "This plan is not HSA-qualified; members may use a health care FSA through their employer instead."))
    text = (f"Monthly premiums for an individual on {name} in {year} start at {money(round(p['prem'] * 0.72))} at age 21, "
            f"{money(p['prem'])} at age 40 and {money(round(p['prem'] * 2.1))} at age 60. Adding a spouse roughly doubles the premium and each "
            f"child under 21 adds {money(round(p['prem'] * 0.6))}. {acct} Premiums are due on the first of the month; there is a grace period "
            f"before coverage is suspended. Employer-sponsored groups pay the rates on their own contract.")
    text = with_glance(metal, net, text)
    add_doc(plan_key("prem", metal, net, year), title, text, **meta, topic="premium")

# ---------------------------------------------------------------------------
# 2. Year-versioned policies (same title pattern, different numbers)
# ---------------------------------------------------------------------------
YEARLY = {}

HSA_LIM = {2023: (3850, 7750), 2024: (4150, 8300), 2025: (4300, 8550), 2026: (4400, 8750)}
FSA_LIM = {2023: (3050, 610), 2024: (3200, 640), 2025: (3300, 660), 2026: (3400, 680)}
EMP_HSA = {2023: (400, 800), 2024: (500, 1000), 2025: (600, 1200), 2026: (750, 1500)}
K401 = {2023: (4, 22500), 2024: (4, 23000), 2025: (5, 23500), 2026: (5, 24500)}
PTO = {2023: (15, 24), 2024: (15, 40), 2025: (18, 40), 2026: (20, 80)}
MILE = {2023: "65.5", 2024: "67", 2025: "70", 2026: "72.5"}
TELE = {2023: "$15", 2024: "$10", 2025: "$5", 2026: "$0"}
INSULIN = {2023: 75, 2024: 50, 2025: 35, 2026: 25}
PA_NEW = {
    2023: "bariatric surgery, outpatient infusion of biologics, and hyperbaric oxygen therapy",
    2024: "genetic testing, sleep studies done in a lab, and outpatient physical therapy after the 12th visit",
    2025: "GLP-1 weight-loss medications, proton beam therapy, and home infusion of specialty drugs",
    2026: "spinal cord stimulators, outpatient cardiac rehab beyond 36 sessions, and continuous glucose monitors for non-insulin users",
}
PA_REMOVED = {
    2023: "routine echocardiograms and allergy testing",
    2024: "routine colonoscopy and cataract surgery",
    2025: "diagnostic ultrasounds and knee arthroscopy",
    2026: "in-network sleep studies at home and standard CT scans of the head",
}
OE = {2023: ("November 1, 2022", "December 15, 2022"), 2024: ("November 1, 2023", "December 15, 2023"), 2025: ("November 1, 2024", "January 15, 2025"),
      2026: ("November 1, 2025", "January 15, 2026")}
HOLIDAYS = {2023: "10 paid holidays plus 1 floating holiday", 2024: "11 paid holidays plus 1 floating holiday", 2025: "11 paid holidays plus 2 floating holidays",
            2026: "12 paid holidays (Juneteenth and the day after Thanksgiving included) plus 2 floating holidays"}
FORM = {
    2023: "adds generic lisdexamfetamine at Tier 1, moves brand inhalers to Tier 3, and removes two brand antihistamines",
    2024: "moves three insulin brands to Tier 2, adds biosimilar adalimumab at Tier 3, and drops two brand statins in favour of generics",
    2025: "adds two GLP-1 drugs at Tier 3 with prior authorization, moves albuterol inhalers to Tier 1, and removes brand omeprazole",
    2026: "moves all biosimilar adalimumab products to Tier 2, adds a second semaglutide option, and excludes compounded GLP-1 drugs",
}
DENTAL = {2023: (1000, 50), 2024: (1000, 50), 2025: (1250, 50), 2026: (1500, 60)}

for y in YEARS:
    add_doc(f"hsa-limits-{y}", rng.choice([f"HSA contribution limits for {y}", f"{y} health savings account (HSA) limits"]),
            f"For {y}, the IRS limit on health savings account contributions is {money(HSA_LIM[y][0])} for self-only coverage and "
            f"{money(HSA_LIM[y][1])} for family coverage. Members aged 55 or older can add a $1,000 catch-up contribution. The limit "
            f"includes money from any source, including employer deposits. You must be enrolled in an HSA-qualified Alder plan to "
            f"contribute, and contributions for {y} can be made until the tax filing deadline in April {y + 1}. {rng.choice(CLOSERS)}",
            product="HSA", year=y, category="accounts")
    add_doc(f"fsa-limits-{y}", rng.choice([f"Health care FSA limits and rollover for {y}", f"{y} flexible spending account (FSA) limits"]),
            f"The {y} limit for a health care flexible spending account (FSA) is {money(FSA_LIM[y][0])} per employee. If your employer's "
            f"plan allows carryover, up to {money(FSA_LIM[y][1])} of unused {y} funds can roll into {y + 1}. FSAs are owned by the "
            f"employer, so unspent money above the carryover is forfeited. An FSA cannot be combined with an HSA unless it is a "
            f"limited-purpose FSA for dental and vision only. {rng.choice(CLOSERS)}",
            product="FSA", year=y, category="accounts")
    add_doc(f"emp-hsa-{y}", f"Alder employee benefits: company HSA contribution ({y})",
            f"Internal HR article for Alder Health employees. In {y}, Alder deposits {money(EMP_HSA[y][0])} (employee only) or "
            f"{money(EMP_HSA[y][1])} (employee plus family) into the HSA of every employee enrolled in the staff high-deductible "
            f"plan. Half is deposited in January and half in July, prorated for new hires. This is separate from the HSA rules "
            f"we explain to members. Questions go to the People Team benefits inbox, not Member Services.",
            product="Employee benefits", year=y, category="internal-hr")
    add_doc(f"k401-{y}", f"401(k) match and limits for Alder employees — {y}",
            f"Internal HR article. For {y}, Alder matches 100% of the first {K401[y][0]}% of salary you contribute to the Alder "
            f"401(k) plan. The IRS employee deferral limit for {y} is {money(K401[y][1])}, with a catch-up of $7,500 for employees 50 "
            f"and older. Matching contributions vest after two years of service. Change your contribution rate in the payroll portal; "
            f"changes take effect the next pay cycle.",
            product="Employee benefits", year=y, category="internal-hr")
    add_doc(f"pto-{y}", rng.choice([f"PTO policy {y}", f"Paid time off (PTO) for Alder employees — {y}"]),
            f"Internal HR policy. Full-time employees accrue {PTO[y][0]} days of paid time off in {y}, increasing by one day per year "
            f"of service up to 25 days. You may carry over up to {PTO[y][1]} hours of unused PTO into {y + 1}; anything above that is "
            f"forfeited on December 31. Request time off in the HR portal at least two weeks ahead when possible. Sick time is tracked "
            f"separately and does not count against PTO.",
            product="Employee policy", year=y, category="internal-hr")
    add_doc(f"holidays-{y}", f"Company holiday calendar {y}",
            f"Internal HR article. Alder Health observes {HOLIDAYS[y]} in {y}. Member Services runs a reduced holiday schedule and "
            f"the nurse line stays open 24/7. Employees who must work a company holiday receive holiday pay plus a substitute day off "
            f"within 60 days. Floating holidays must be used by December 31 and do not carry over.",
            product="Employee policy", year=y, category="internal-hr")
    add_doc(f"mileage-{y}", f"Mileage reimbursement rate for {y}",
            f"Internal finance article. Employees who drive a personal vehicle for Alder business are reimbursed at {MILE[y]} cents "
            f"per mile in {y}. Commuting between home and your usual office is not reimbursable. Submit mileage in the expense tool with "
            f"start and end addresses and the business purpose. Claims older than 60 days are rejected by the system.",
            product="Expenses", year=y, category="internal-finance")
    add_doc(f"pa-list-{y}", rng.choice([f"Services requiring prior authorization in {y}", f"{y} prior authorization (PA) list"]),
            f"Starting January 1, {y}, these services newly require prior authorization (PA) on all Alder plans: {PA_NEW[y]}. The "
            f"following no longer need PA in {y}: {PA_REMOVED[y]}. Inpatient admissions, advanced imaging and specialty drugs continue "
            f"to require approval. Your in-network provider requests PA for you; if care is delivered without a required approval the "
            f"claim may be denied. {rng.choice(CLOSERS)}",
            product="All plans", year=y, category="policy")
    add_doc(f"open-enroll-{y}", rng.choice([f"Open enrollment for {y} plans", f"{y} open enrollment dates and deadlines"]),
            f"Open enrollment for {y} coverage runs from {OE[y][0]} to {OE[y][1]}. Choose a plan by December 15 for coverage that "
            f"starts January 1, {y}; enrollments after that start the first of the following month. If you do nothing, most members are "
            f"renewed into the same plan or its closest {y} replacement. Outside open enrollment you need a qualifying life event to "
            f"change plans. {rng.choice(CLOSERS)}",
            product="All plans", year=y, category="enrollment")
    add_doc(f"telehealth-{y}", f"Alder Telehealth virtual visits — {y}",
            f"In {y}, virtual urgent care visits through Alder Telehealth cost {TELE[y]} on Silver, Gold and Platinum plans "
            f"(Bronze members pay the plan's telehealth copay shown in the plan summary). Video visits are available 24/7 for colds, "
            f"rashes, UTIs and prescription refills. Virtual behavioral health visits are billed like an in-person office visit. "
            f"Download the Alder Health app to start a visit.",
            product="All plans", year=y, category="benefits")
    add_doc(f"formulary-{y}", rng.choice([f"Formulary changes for {y}", f"{y} drug list (formulary) updates"]),
            f"The {y} Alder formulary {FORM[y]}. Members taking a drug that moved to a higher tier or was removed receive a letter "
            f"in October and may get a one-time 30-day transition fill in January. Ask your prescriber about covered alternatives or "
            f"request a formulary exception if no alternative works for you.",
            product="Pharmacy", year=y, category="pharmacy")
    add_doc(f"insulin-{y}", f"Insulin cost cap ({y})",
            f"For {y}, covered insulin costs no more than {money(INSULIN[y])} per 30-day supply on every Alder plan, including Bronze "
            f"plans before the deductible is met. The cap applies to preferred insulins on the {y} formulary at in-network pharmacies. "
            f"Syringes, pen needles and glucose test strips are covered at the Tier 1 copay.",
            product="Pharmacy", year=y, category="pharmacy")
    add_doc(f"dental-{y}", f"Dental add-on coverage {y}",
            f"The optional Alder Dental add-on for {y} has an annual maximum of {money(DENTAL[y][0])} per adult. Cleanings and exams are "
            f"covered at 100%, fillings at 80% and crowns at {DENTAL[y][1]}% after a $50 deductible. Children's dental is included in "
            f"every medical plan. Orthodontics is not covered for adults. Add dental during open enrollment or within 30 days of a "
            f"qualifying event.",
            product="Dental", year=y, category="benefits")

# ---------------------------------------------------------------------------
# 3. Hand-written articles (acronym collisions, intents, FAQs, internal)
# ---------------------------------------------------------------------------
M = dict(category="member-help")
INT_HR = dict(category="internal-hr")
INT_IT = dict(category="internal-it")
INT_FIN = dict(category="internal-finance")
PROV = dict(category="provider")

HAND = [
    # --- PA = prior authorization
    ("pa-what", "What is prior authorization (PA)?",
     "Prior authorization, often shortened to PA or pre-approval, means Alder reviews certain services before you get them to confirm "
     "they are medically necessary and covered. Without an approved PA the claim can be denied even if the care was appropriate. Your "
     "in-network doctor usually submits the request. Approval is not a guarantee of payment: you still owe your deductible, copays and "
     "coinsurance, and you must be enrolled on the date of service.", M),
    ("pa-check", "How to check whether a service needs prior authorization",
     "Before scheduling a surgery, scan or new medication, search the procedure or drug name in the member portal under Coverage > "
     "Prior authorization lookup. The tool shows whether PA is required on your specific plan and year. You can also ask your doctor's "
     "office, which sees the same list. If the lookup says approval is required, ask the office to confirm they have submitted it and "
     "note the reference number.", M),
    ("pa-provider-submit", "Submitting a PA request (providers)",
     "Providers submit prior authorization requests through the Alder provider portal or by fax to the utilization management team. "
     "Include the CPT or HCPCS code, diagnosis codes, clinical notes and the ordering clinician's NPI. Incomplete requests are pended "
     "and the clock stops until documents arrive. Peer-to-peer review with an Alder medical director can be scheduled within 5 business "
     "days of a denial.", PROV),
    ("pa-turnaround", "Prior authorization decision times: standard and urgent",
     "Standard prior authorization requests are decided within 7 calendar days of receiving complete information. Urgent requests, where "
     "waiting could seriously harm the member's health, are decided within 72 hours, and inpatient concurrent reviews within 24 hours. "
     "Members and providers are notified by portal message and letter. If a decision is late, the provider may call the UM line to "
     "escalate.", M),
    ("pa-denied", "My prior authorization was denied — what now?",
     "A PA denial letter explains the reason and the criteria used. Your doctor can request a peer-to-peer conversation with our medical "
     "director, or submit more records for reconsideration. You can also file a pre-service appeal within 180 days; urgent pre-service "
     "appeals are decided within 72 hours. A denied authorization is different from a denied claim, which happens after you already "
     "received the care.", M),
    ("pa-specialty-rx", "Prior authorization and step therapy for specialty drugs",
     "Most Tier 4 specialty medications need prior authorization, and many also require step therapy, meaning you try a preferred drug "
     "first. Your prescriber submits the request through the pharmacy PA form. Approvals usually last 12 months and must be renewed "
     "with evidence the drug is working. Alder Specialty Pharmacy will not ship until the PA is approved.", M),
    ("pa-imaging", "Advanced imaging (MRI, CT, PET) authorization",
     "Non-emergency MRI, CT, PET and nuclear cardiology scans require authorization through Alder's imaging review partner. The ordering "
     "provider requests approval; the imaging center should verify it before your appointment. Scans done in the emergency room or "
     "during an inpatient stay do not need separate approval. Choosing a freestanding imaging center rather than a hospital often "
     "lowers your cost.", M),
    ("pa-retro", "Retroactive authorization after an emergency admission",
     "Emergency care never needs prior authorization. If you are admitted to the hospital from the emergency room, the hospital must "
     "notify Alder within one business day so we can review the inpatient stay. Members are not penalized if the hospital notifies "
     "late. Retro authorization requests for planned, non-emergency services are generally not accepted.", M),
    ("pa-transfer", "Continuing an existing authorization when you switch to Alder",
     "New members who were approved for treatment by a previous insurer can request transition of care. Send the prior approval letter "
     "and treatment plan within 30 days of your start date. Alder will honour the existing authorization for up to 90 days while your "
     "provider submits a new PA under Alder criteria. This also applies to pregnancies in the second or third trimester.", M),
    # --- PA = physician assistant
    ("physasst-visit", "Seeing a physician assistant (PA) for primary care",
     "Many Alder network clinics have physician assistants (PAs) who diagnose illness, prescribe medicine and order tests under a "
     "collaborating physician. A visit with a PA costs the same as a visit with your primary care doctor and is billed under the same "
     "copay. Appointments with PAs are often available sooner, which makes them a good option for sick visits and chronic condition "
     "follow-ups.", M),
    ("physasst-pcp", "Can a physician assistant or nurse practitioner be my PCP?",
     "Yes. On HMO and PPO plans you can choose a physician assistant (PA-C) or nurse practitioner (NP) as your primary care provider if "
     "they are listed as accepting new patients in the provider directory. Filter the directory by 'Provider type'. Your PA can write "
     "specialist referrals on HMO plans just like a physician.", M),
    ("physasst-hiring", "CarePoint clinics: hiring and credentialing physician assistants",
     "Internal HR article for Alder CarePoint clinic managers. New physician assistant hires need an active state PA license, NCCPA "
     "certification, a DEA registration if they will prescribe controlled substances, and a signed collaboration agreement before their "
     "first patient. Credentialing takes about 45 days; start it the day the offer is accepted. The recruiting team posts PA openings on "
     "the clinical careers page.", INT_HR),
    ("physasst-supervision", "PA collaboration agreements at CarePoint clinics",
     "Each physician assistant at an Alder CarePoint clinic must have a written collaboration agreement with a supervising physician on "
     "file. The agreement lists the PA's scope, chart review percentage for the first 2,000 hours, and backup coverage. Clinic managers "
     "update agreements when a supervising physician leaves. Compliance audits the files every quarter.", INT_HR),
    ("physasst-cme", "CME allowance for PAs and NPs",
     "Internal HR article. Physician assistants and nurse practitioners employed by Alder CarePoint receive a continuing medical "
     "education (CME) allowance of $2,000 and three paid education days per year. Allowance covers conference fees, travel and "
     "license renewal. Submit receipts through the expense tool with the CME category within 60 days.", INT_HR),
    # --- OOP = out-of-pocket
    ("oop-what-counts", "What counts toward your out-of-pocket maximum",
     "Your out-of-pocket (OOP) maximum is the most you pay for covered in-network care in a plan year. Deductible, copays and "
     "coinsurance all count. Premiums, services that are not covered, balance bills from out-of-network providers and amounts above "
     "Alder's allowed amount do not count. Once you hit the maximum, Alder pays 100% of covered in-network care for the rest of the year.", M),
    ("oop-vs-deductible", "Deductible vs out-of-pocket maximum, explained",
     "Your deductible is what you pay before Alder starts sharing the cost. Your out-of-pocket maximum is the ceiling on everything you "
     "pay in a year. Example: with a $3,000 deductible and $8,000 maximum, a $40,000 surgery costs you the $3,000 deductible plus "
     "coinsurance until your total reaches $8,000. Office visit copays usually skip the deductible but still count toward the maximum.", M),
    ("oop-tracker", "Tracking your out-of-pocket spending in the portal",
     "The member portal's Spending tracker shows how much you have paid toward your deductible and out-of-pocket maximum this plan year, "
     "for you and for the whole family. Amounts update when claims finish processing, which can take up to 30 days after a visit. If the "
     "tracker looks wrong, compare it with your recent EOBs before calling.", M),
    # --- OOP = out-of-plan / out-of-network
    ("oon-hmo", "Out-of-plan (OOP) care on HMO plans",
     "On Alder HMO plans, care from providers outside the HMO network, sometimes written as out-of-plan or OOP in letters, is not "
     "covered unless it is an emergency or your PCP obtained an approved out-of-plan referral because no in-network specialist can "
     "provide the service. Without that approval you pay the full bill. Check the directory before booking.", M),
    ("oon-ppo", "Out-of-network benefits on PPO plans",
     "PPO members can see out-of-network providers, but you pay more: a separate, higher deductible, 50% coinsurance, and any amount the "
     "provider charges above Alder's allowed amount. Out-of-network providers may ask you to pay up front and file the claim yourself. "
     "Out-of-network costs have their own maximum and do not count toward the in-network out-of-pocket limit.", M),
    ("oon-balance-bill", "Balance billing and surprise bills",
     "Balance billing is when an out-of-network provider bills you for the difference between their charge and what Alder paid. Federal "
     "surprise billing protections ban this for emergency care and for out-of-network clinicians at in-network hospitals, such as "
     "anesthesiologists. If you receive a surprise bill, do not pay it; forward it to Member Services for review.", M),
    ("oon-travel", "Getting care while travelling outside the service area",
     "When you travel outside Alder's service area, emergencies are covered everywhere. For urgent care, use Alder Telehealth or any "
     "urgent care center; PPO members get in-network rates through our national partner network. HMO members are covered away from home "
     "only for emergencies and urgent care, not routine visits. Students living out of state can apply for guest membership.", M),
    ("oop-claims-shorthand", "Claims operations shorthand: OOP, OON, INN, OOA",
     "Internal claims team glossary. In claim notes, OOP is ambiguous: adjusters historically used it for out-of-plan (provider outside "
     "the HMO network) while member-facing teams use it for out-of-pocket. From 2025 write OON for out-of-network, INN for in-network, "
     "OOA for out-of-area and spell out 'out-of-pocket'. Do not use OOP in new notes.", dict(category="internal-claims")),
    # --- EOB = explanation of benefits
    ("eob-read", "How to read your Explanation of Benefits (EOB)",
     "An Explanation of Benefits (EOB) is a statement Alder sends after processing a claim. It lists the provider, date of service, the "
     "amount billed, Alder's allowed amount, what the plan paid and what you may owe. The 'Your responsibility' column is what the "
     "provider can bill you. Remark codes at the bottom explain any reductions or denials.", M),
    ("eob-not-bill", "An EOB is not a bill",
     "Your EOB shows how a claim was processed; it is not a request for payment. Wait for the bill from your doctor or hospital and "
     "compare the amount with the 'You may owe' line on the EOB. If the bill is higher, contact the provider's billing office first. "
     "You may receive an EOB showing $0 owed, for example after preventive care.", M),
    ("eob-paperless", "Switching to paperless EOBs",
     "Go to Profile > Communication preferences in the member portal and choose Paperless for Explanation of Benefits. You will get an "
     "email when a new EOB is ready and can download PDFs for the past 24 months. Each adult dependent on the plan can set their own "
     "preference to protect privacy.", M),
    ("eob-missing", "I didn't get an EOB for a recent visit",
     "EOBs are created only after the provider submits a claim and Alder finishes processing it, which can take 30 days or more. Check "
     "Claims in the portal for the claim status. If no claim appears after 60 days, the provider may not have billed Alder yet. Adult "
     "dependents' EOBs are sent to them, not to the subscriber.", M),
    # --- EOB = end of business
    ("eob-expense-cutoff", "Expense reports: monthly cutoff is EOB on the 25th",
     "Internal finance article. Expense reports must be submitted and approved by end of business (EOB, 5pm Pacific) on the 25th to be "
     "reimbursed in that month's payroll. Reports submitted after EOB are paid the following month. Managers receive a reminder two days "
     "before the cutoff.", INT_FIN),
    ("eob-payroll-changes", "Payroll change requests due by EOB Wednesday",
     "Internal HR article. Changes to direct deposit, tax withholding or addresses must be entered in the payroll portal by end of "
     "business (EOB) Wednesday of a pay week to apply to that Friday's paycheck. Off-cycle checks are only issued for payroll errors, "
     "not for late changes.", INT_HR),
    ("eob-vendor-invoices", "Vendor invoice approvals: EOB deadlines at quarter end",
     "Internal finance article. In the last week of each quarter, vendor invoices over $10,000 must be approved in the procurement system "
     "by EOB two business days before quarter end so accounting can accrue them. Late approvals go into the next quarter and may affect "
     "your department's budget report.", INT_FIN),
    # --- COB = coordination of benefits
    ("cob-what", "Coordination of benefits (COB): when you have two health plans",
     "If you are covered by two health plans, for example yours and a spouse's, coordination of benefits (COB) decides which plan pays "
     "first. The primary plan pays as if it were the only coverage; the secondary plan may pay some of what is left. Your own employer's "
     "plan is usually primary for you. Tell Alder about other coverage to avoid claim delays.", M),
    ("cob-birthday", "The birthday rule for children on two parents' plans",
     "When a child is covered by both parents' plans, the plan of the parent whose birthday comes first in the calendar year (month and "
     "day, not year of birth) is primary. If parents are divorced, a court order may decide instead; otherwise the custodial parent's "
     "plan pays first.", M),
    ("cob-medicare", "Alder plans and Medicare: who pays first",
     "If you have Medicare and an Alder group plan through active employment at a company with 20 or more employees, Alder pays first and "
     "Medicare second. If you are retired or the employer is smaller, Medicare is usually primary. For end-stage renal disease there is a "
     "30-month coordination period.", M),
    ("cob-questionnaire", "Completing the annual COB questionnaire",
     "Once a year Alder asks every member whether they have other health coverage. Answer the coordination of benefits questionnaire in "
     "the portal under Tasks, even if you have no other coverage. If it is not completed, claims may be pended until we receive an "
     "answer. It takes about two minutes.", M),
    ("cob-claim-pended", "Why is my claim pending for other insurance information?",
     "A claim status of 'Pended – COB' means we need to confirm whether another plan should pay first. This usually happens when the "
     "questionnaire is overdue or a provider listed a second insurance. Update your other-coverage information in the portal; pended "
     "claims are released within 10 business days after we receive it.", M),
    # --- COB = close of business
    ("cob-change-freeze", "Production change freeze starts COB Friday before holidays",
     "Internal IT article. A production change freeze begins at close of business (COB) on the Friday before each company holiday and "
     "during open enrollment. Only emergency changes approved by the change advisory board may be deployed. Submit normal change requests "
     "before COB Thursday to be reviewed in time.", INT_IT),
    ("cob-helpdesk-hours", "IT help desk coverage after COB",
     "Internal IT article. The IT service desk is staffed 7am to close of business (6pm Pacific) on weekdays. After COB and on weekends, "
     "call the on-call number for outages affecting member-facing systems only; everything else should be logged as a ticket and will be "
     "picked up the next business day.", INT_IT),
    ("cob-month-end", "Month-end close: journal entries due COB day 3",
     "Internal finance article. Journal entries and accrual adjustments for the month must be posted by close of business on the third "
     "business day of the following month. Anything posted after COB day 3 requires controller approval and is flagged in the close "
     "checklist.", INT_FIN),
    # --- ER = emergency room
    ("er-vs-urgent", "ER or urgent care? Choosing the right place",
     "Go to the emergency room (ER) for chest pain, trouble breathing, stroke symptoms, severe bleeding or serious injuries. For sprains, "
     "minor cuts, fevers and infections, urgent care or a telehealth visit is faster and costs far less. When in doubt, call the 24/7 "
     "Alder nurse line, which can tell you where to go.", M),
    ("er-copay-admit", "Is the ER copay waived if I'm admitted?",
     "Yes. If you are admitted to the hospital as an inpatient directly from the emergency room, the ER copay is waived and the stay is "
     "covered under your inpatient hospital benefit instead. Observation stays are not inpatient admissions, so the ER copay still "
     "applies when you are kept for observation.", M),
    ("er-out-of-network", "Emergency room visits at out-of-network hospitals",
     "True emergencies are covered at in-network cost sharing at any hospital, in or out of network, on every Alder plan. The hospital "
     "cannot balance bill you for emergency care. Once you are stable, you may be asked to transfer to an in-network hospital; if you "
     "refuse, later care may be covered at out-of-network rates.", M),
    ("er-followup", "Follow-up care after an emergency room visit",
     "After an ER visit, schedule a follow-up with your primary care provider within 7 days. HMO members need a PCP referral for any "
     "specialist the ER recommended. Prescriptions from the ER can be filled at any in-network pharmacy. Alder's care coordinators may call "
     "you after a visit to help arrange follow-up care.", M),
    # --- ER = employee relations
    ("er-contact", "Contacting Employee Relations (ER)",
     "Internal HR article. Employee Relations (ER) helps Alder employees and managers with workplace concerns: conflicts with a manager "
     "or coworker, policy questions, performance issues and complaints of harassment or discrimination. Open a confidential case through "
     "the HR portal or email the ER team. Urgent safety concerns should also be reported to Security.", INT_HR),
    ("er-investigations", "How Employee Relations investigations work",
     "Internal HR article. When ER receives a complaint, an investigator is assigned within 2 business days. They interview the people "
     "involved, review documents and write findings. Investigations usually close within 30 days. Retaliation against anyone who raises a "
     "concern in good faith is prohibited and is itself investigated.", INT_HR),
    ("er-accommodation", "Requesting a workplace accommodation",
     "Internal HR article. Employees who need an accommodation for a disability, pregnancy or religious practice can submit a request to "
     "Employee Relations through the HR portal. ER will start an interactive process with you and your manager. Medical details are kept "
     "confidential and are not shared with your manager.", INT_HR),
    # --- HSA / HRA / FSA
    ("hsa-eligible-plans", "Which Alder plans are HSA-eligible?",
     "You can contribute to a health savings account only if you are enrolled in an HSA-qualified high-deductible plan and have no other "
     "disqualifying coverage. All Bronze plans are HSA-qualified. Starting in 2025, Silver PPO is also HSA-qualified; Silver HMO is not. "
     "Gold and Platinum plans are not HSA-qualified and instead include an HRA.", dict(category="accounts")),
    ("hsa-open", "Opening an HSA with Alder's banking partner",
     "Members on an HSA-qualified plan can open a health savings account with Alder's banking partner from the portal under Accounts. "
     "You'll need your Social Security number and a checking account for transfers. The account is yours, earns interest, and can be "
     "invested once the balance passes $1,000. A debit card arrives within 10 days.", dict(category="accounts")),
    ("hsa-qualified-expenses", "What you can pay for with your HSA",
     "HSA money can pay for qualified medical expenses: deductibles, copays, prescriptions, dental and vision care, hearing aids and "
     "many over-the-counter products. Keep receipts in case of an IRS audit. Using HSA funds for non-medical purchases before age 65 "
     "means income tax plus a 20% penalty.", dict(category="accounts")),
    ("hra-gold", "How the Alder HRA works on Gold and Platinum plans",
     "Gold and Platinum members receive a health reimbursement arrangement (HRA) funded by Alder with $500 per person each year. HRA "
     "dollars are applied automatically to your deductible and coinsurance when claims process. Unlike an HSA, you cannot contribute "
     "to an HRA, the money does not earn interest, and unused funds are not yours to keep if you leave the plan.", dict(category="accounts")),
    ("hsa-hra-fsa", "HSA vs HRA vs FSA: what's the difference?",
     "An HSA is your own account, funded by you and your employer, available only with a qualified high-deductible plan; it rolls over "
     "forever. An HRA is funded only by the employer or insurer and stays with the plan. An FSA is an employer account you fund through "
     "payroll with a use-it-or-lose-it rule and a small carryover. You can't use a general FSA and an HSA in the same year.", dict(category="accounts")),
    ("fsa-limited", "Limited-purpose FSA for dental and vision",
     "A limited-purpose FSA lets people with an HSA still set aside pre-tax money for dental and vision expenses such as cleanings, "
     "braces, glasses and contact lenses. It can't be used for medical copays or prescriptions. Ask your employer's benefits "
     "administrator whether they offer one.", dict(category="accounts")),
    ("hsa-leaving", "What happens to my HSA if I leave my plan?",
     "Your HSA belongs to you. If you change plans, switch jobs or leave Alder coverage, the money stays in your account and you can keep "
     "spending it on qualified expenses. You can only add new contributions while you are covered by an HSA-qualified plan. You can "
     "transfer the balance to another custodian at any time.", dict(category="accounts")),
    # --- DME = durable medical equipment
    ("dme-what", "Durable medical equipment (DME) coverage",
     "Durable medical equipment (DME) is reusable equipment prescribed by a doctor for use at home, such as wheelchairs, walkers, hospital "
     "beds, CPAP machines and oxygen equipment. DME is covered after the deductible at your plan's coinsurance when bought from an "
     "in-network supplier. Items over $1,000 need prior authorization.", M),
    ("dme-cpap", "CPAP machines and supplies",
     "Alder covers CPAP machines for members diagnosed with obstructive sleep apnea. The machine is rented for the first 90 days; if the "
     "device's usage data shows you use it at least 4 hours a night, Alder continues rental until it is purchased. Masks, tubing and "
     "filters are replaced on a set schedule.", M),
    ("dme-rental", "DME rental vs purchase",
     "Alder decides whether to rent or purchase durable medical equipment based on cost and how long you will need it. Short-term items "
     "like hospital beds after surgery are rented. Items needed long term, like power wheelchairs, are usually purchased after a rental "
     "period of up to 13 months. Repairs are covered for purchased equipment.", M),
    ("dme-supplier", "Finding an in-network DME supplier",
     "Search the provider directory using the category 'Medical equipment and supplies' to find in-network DME suppliers near you, "
     "including ones that deliver. Using an out-of-network supplier on an HMO means no coverage; on a PPO you pay out-of-network "
     "coinsurance.", M),
    # --- DME = Data & Model Engineering (internal team)
    ("dme-team-request", "Requesting a report from the DME team",
     "Internal IT article. The Data & Model Engineering (DME) team builds dashboards, data extracts and risk models for Alder business "
     "units. Submit a request through the DME intake form with the business question, data needed and deadline. Requests involving "
     "member PHI require a privacy review before work starts.", INT_IT),
    ("dme-team-oncall", "DME on-call rotation and pipeline incidents",
     "Internal IT article. The Data & Model Engineering (DME) on-call engineer responds to failed nightly data pipelines and stale "
     "dashboards. Page the DME on-call through the incident tool if claims or enrollment data is more than 24 hours late. For access "
     "requests, open a normal ticket instead.", INT_IT),
    # --- PCP = primary care provider
    ("pcp-choose", "Choosing a primary care provider (PCP)",
     "Your primary care provider (PCP) is the doctor, physician assistant or nurse practitioner you see for checkups and most health "
     "concerns. HMO members must pick a PCP within 30 days of enrolling or one is assigned. PPO members are encouraged but not required "
     "to choose one. Each family member can have a different PCP.", M),
    ("pcp-change", "Changing your PCP",
     "You can change your primary care provider any time in the member portal under My care team, or by calling Member Services. "
     "Changes made by the 20th take effect on the first of the next month. HMO members should get referrals from the new PCP after the "
     "change date.", M),
    ("pcp-referral-hmo", "Getting a specialist referral from your PCP (HMO)",
     "HMO members need a referral from their primary care provider before seeing most specialists. Your PCP sends the referral "
     "electronically; it is usually valid for 6 visits or 12 months. OB-GYN, behavioral health, and routine eye exams do not need a "
     "referral. Without one, the specialist visit will not be covered.", M),
    # --- PCP = Purchasing Card Program (internal)
    ("pcard-program", "Purchasing Card Program (PCP): who can get a company card",
     "Internal finance article. The Purchasing Card Program (PCP) issues company credit cards to employees who regularly buy supplies, "
     "software subscriptions or event services. Ask your manager to submit a PCP enrollment request. Cardholders complete a 20-minute "
     "training before activation.", INT_FIN),
    ("pcard-limits", "PCP card limits and receipt rules",
     "Internal finance article. Purchasing Card Program cards have a $2,500 single-transaction limit and a $10,000 monthly limit unless "
     "finance approves more. Upload itemized receipts within 10 days. Cards are suspended after two overdue reconciliations. Personal "
     "purchases are never allowed.", INT_FIN),
    # --- claims intents
    ("claim-submit", "How to submit a claim for reimbursement",
     "If you paid a provider yourself, for example an out-of-network therapist, submit a member reimbursement claim in the portal under "
     "Claims > Submit a claim, or mail the reimbursement form. Attach an itemized bill showing the provider's name and tax ID, diagnosis "
     "and procedure codes, dates and amounts, plus proof of payment. Reimbursement is sent by direct deposit.", M),
    ("claim-status", "Checking the status of a claim",
     "Open Claims in the member portal or app to see every claim for you and your dependents. Statuses are Received, In process, Pended "
     "(we need information), Processed and Denied. Most clean claims process within 15 business days. Click a claim to see the EOB once "
     "it is processed.", M),
    ("claim-appeal", "How to appeal a denied claim",
     "If Alder denied a claim or paid less than you expected, you can file an appeal within 180 days of the denial notice. Use Claims > "
     "Appeal in the portal or mail the appeal form with a letter explaining why you disagree, plus medical records or a letter from your "
     "doctor. Post-service appeals are decided within 60 days. You may ask someone to appeal on your behalf.", M),
    ("claim-appeal-expedited", "Expedited (urgent) appeals",
     "If waiting for a standard appeal could seriously jeopardize your health, you or your doctor can request an expedited appeal by "
     "phone. Alder decides expedited appeals within 72 hours. Expedited appeals are for care you have not yet received; appeals about "
     "bills for past care follow the standard timeline.", M),
    ("claim-external-review", "External review after a final appeal denial",
     "If your internal appeal is denied, you can ask for an external review by an independent review organization within 4 months of the "
     "final denial. The reviewer's decision is binding on Alder. External review is free. Request it using the form attached to your "
     "final denial letter.", M),
    ("claim-timely-filing", "Claim filing deadlines",
     "In-network providers must submit claims within 180 days of the date of service. Members submitting their own reimbursement claims "
     "have 12 months. Claims received after the deadline are denied for timely filing, and in-network providers cannot bill you for "
     "amounts denied for late filing.", M),
    ("claim-corrected", "Submitting a corrected claim (providers)",
     "Providers who need to change a processed claim should submit a corrected claim with frequency code 7 (replacement) or 8 (void) and "
     "the original claim number. Do not send a new claim, which will deny as a duplicate. Corrected claims must be filed within 365 days "
     "of the original processing date.", PROV),
    ("claim-denial-reasons", "Common reasons claims are denied",
     "The most common denial reasons are: no prior authorization, service not covered by the plan, out-of-network provider on an HMO, "
     "missing information from the provider, coordination of benefits not updated, and timely filing. The remark code on your EOB tells "
     "you which applies and what to do next.", M),
    ("claim-abroad", "Claims for care received outside the United States",
     "Emergency and urgent care received abroad is covered. Pay the provider, keep itemized bills and receipts, and submit a reimbursement "
     "claim within 12 months. Bills in another language should be translated; Alder converts foreign currency using the exchange rate on "
     "the date of service.", M),
    ("grievance", "Filing a grievance (complaint) vs an appeal",
     "A grievance is a complaint about your experience, such as rude service, long wait times or the quality of care. An appeal asks Alder "
     "to change a decision about coverage or payment. File a grievance by phone, in the portal or by mail; we respond within 30 days.", M),
    # --- dependents and enrollment intents
    ("dep-add", "Adding a dependent to your plan",
     "You can add a spouse or child to your Alder plan during open enrollment or within 60 days of a qualifying life event such as "
     "marriage. In the portal go to Coverage > Manage members > Add a dependent, and upload proof such as a marriage certificate. "
     "Coverage for a new spouse starts the first of the month after we receive the request.", M),
    ("dep-newborn", "Adding a newborn or adopted child",
     "Newborns are covered automatically for the first 31 days under the parent's plan. To keep coverage, add the baby within 60 days of "
     "birth; coverage is retroactive to the date of birth. Adopted children can be added within 60 days of placement. A Social Security "
     "number can be provided later.", M),
    ("dep-remove", "Removing a dependent from your plan",
     "To remove a spouse after a divorce, or a child who gained other coverage, go to Coverage > Manage members > Remove a dependent in "
     "the portal. Coverage ends on the last day of the month of the event. Report removals within 60 days; premiums paid for an "
     "ineligible dependent are refunded only back to the reporting date. The removed person may be offered continuation coverage.", M),
    ("dep-age26", "Coverage for children turning 26",
     "Children can stay on a parent's Alder plan until the end of the month they turn 26, whether or not they are students, married or "
     "living at home. About 60 days before, we send a letter explaining options, including enrolling in their own Alder plan through a "
     "special enrollment period.", M),
    ("dep-domestic-partner", "Covering a domestic partner",
     "Individual plans and many employer groups allow coverage for a registered domestic partner. Submit the state registration or an "
     "affidavit of domestic partnership when adding them. Employer-paid premiums for a partner may be taxable income; ask your employer.", M),
    ("dep-disabled", "Disabled dependents over age 26",
     "A child who is incapable of self-support because of a physical or mental disability that started before age 26 can stay on the "
     "plan past 26. Submit the disabled dependent certification form with a physician's statement before the child's 26th birthday. "
     "Alder may ask for recertification every two years.", M),
    ("qle", "Qualifying life events and special enrollment",
     "Outside open enrollment you can change coverage only after a qualifying life event: losing other coverage, marriage, birth or "
     "adoption, divorce, moving to a new service area, or gaining citizenship. You generally have 60 days from the event to enroll or "
     "make changes. Proof of the event is required.", M),
    ("emp-dep-remove", "Removing a dependent from your Alder employee benefits",
     "Internal HR article for Alder Health employees. To drop a spouse or child from your own staff medical, dental or vision coverage, "
     "submit a life event in Workday within 30 days of the divorce or loss of eligibility. Payroll deductions change the next pay period. "
     "This is different from the member process used by Alder customers.", INT_HR),
    ("emp-dep-add", "Adding a dependent to your Alder employee benefits",
     "Internal HR article for Alder employees. To add a new spouse, child or domestic partner to your staff benefits, submit a life event "
     "in Workday within 30 days and upload documentation. Newborns must be added within 30 days of birth, unlike the 60 days members get.", INT_HR),
    # --- general member FAQs
    ("id-card", "Getting a replacement member ID card",
     "Your digital ID card is always available in the Alder Health app and can be added to your phone's wallet. To order a printed card, "
     "go to Profile > ID cards > Order a new card; it arrives in 7 to 10 days. Providers can verify eligibility using your member ID "
     "even without a physical card.", M),
    ("address-change", "Updating your address or phone number",
     "Update your mailing address, email or phone number in the member portal under Profile. If you moved to a new county or state, your "
     "plan options and premium may change and you may qualify for special enrollment. Members on employer plans must update their address "
     "with their employer too.", M),
    ("portal-login", "Trouble logging in to the member portal",
     "If you forgot your password, use 'Forgot password' on the sign-in page and we will email a reset link valid for 30 minutes. After "
     "five failed attempts the account locks for 15 minutes. Member Services can unlock accounts after verifying your identity but cannot "
     "see or set your password.", M),
    ("portal-2fa", "Two-step verification for the member portal",
     "Alder requires two-step verification for the member portal. After your password, you'll enter a code sent by text or from an "
     "authenticator app. If you changed phone numbers and can't get codes, call Member Services to reset your verification method.", M),
    ("mail-order", "Using mail-order pharmacy",
     "Maintenance medications such as blood pressure or cholesterol drugs can be filled in 90-day supplies through Alder's mail-order "
     "pharmacy. Ask your doctor for a 90-day prescription, then sign up in the Pharmacy section of the portal. Standard shipping is free "
     "and takes 5 to 7 days.", M),
    ("vision", "Vision benefits",
     "Every Alder medical plan covers one routine eye exam per year for children, and adult routine eye exams on Gold and Platinum plans. "
     "Glasses and contacts for adults are available through the optional vision add-on, with a $150 frame allowance every 24 months.", M),
    ("hearing-aids", "Hearing aid coverage",
     "Hearing exams are covered as a specialist visit. Hearing aids are covered up to $1,500 per ear every 36 months on Gold and Platinum "
     "plans, and up to $750 per ear on Silver. Bronze plans offer a discount program instead. Buy from an in-network audiologist.", M),
    ("maternity", "Pregnancy and maternity care",
     "Prenatal visits are covered as preventive care at no cost. Delivery and hospital stay are covered under your inpatient benefit. "
     "Enroll in the Alder Healthy Pregnancy program in the first trimester for a nurse coach and a free breast pump. Add your baby within "
     "60 days of birth.", M),
    ("mental-health", "Finding a therapist or mental health provider",
     "Behavioral health visits are covered at the same cost as a primary care visit. Use the directory's Behavioral health filter, or call "
     "the behavioral health line for help finding a therapist with openings. No referral is needed on any plan, including HMOs.", M),
    ("pt-limits", "Physical therapy visit limits",
     "Physical, occupational and speech therapy are covered up to a combined 30 outpatient visits per plan year. Visits beyond that "
     "require a review showing continued improvement. Therapy after a hospital stay for a stroke or surgery may qualify for more visits.", M),
    ("ambulance", "Ambulance coverage",
     "Emergency ground and air ambulance transport is covered at in-network cost sharing, even from out-of-network ambulance companies, "
     "and they cannot balance bill you for emergency air ambulance. Non-emergency ambulance transport, such as between facilities, needs "
     "prior authorization.", M),
    ("preventive", "Preventive care covered at no cost",
     "In-network preventive care is free on every Alder plan: annual wellness visits, immunizations, cancer screenings such as "
     "mammograms and colonoscopies, and well-child visits. If your doctor treats a new problem during the same visit, that part may be "
     "billed with your usual copay or deductible.", M),
    ("cobra", "Continuing coverage after leaving a job (COBRA)",
     "If you had Alder coverage through an employer and lost it, you may be able to keep the same plan under COBRA for up to 18 months by "
     "paying the full premium plus a 2% fee. You have 60 days to elect COBRA. An individual Alder plan may cost less.", M),
    ("medicare-65", "Turning 65: moving from Alder to Medicare",
     "About three months before you turn 65, enroll in Medicare Part A and B through Social Security. If you have an individual Alder plan, "
     "cancel it effective the day Medicare starts. Alder's Medicare Advantage plans are sold separately.", M),
    ("nurse-line", "24/7 nurse advice line",
     "Registered nurses are available by phone 24 hours a day at no cost to help you decide whether to go to the ER, urgent care or wait "
     "for your doctor. They can also explain a new diagnosis or medication. The number is on the back of your ID card.", M),
    ("premium-pay", "Paying your premium",
     "Pay your monthly premium in the portal by bank transfer or card, or set up autopay to avoid missed payments. Premiums are due on the "
     "first of the month. Members with subsidies have a 3-month grace period; others have 31 days before coverage is terminated.", M),
    ("cancel-plan", "Cancelling your Alder plan",
     "To cancel an individual plan, call Member Services or submit a cancellation request in the portal at least 14 days before the date "
     "you want coverage to end. Coverage ends at the end of the month. If you are enrolling in employer coverage, wait until the new plan "
     "starts.", M),
    ("glp1", "Coverage for GLP-1 weight-loss medications",
     "GLP-1 medications prescribed for type 2 diabetes are covered on the formulary. Coverage for weight loss requires prior authorization "
     "and a BMI of 30 or more, or 27 with a related condition, plus enrollment in a lifestyle program. Employer groups may exclude weight "
     "loss drugs entirely.", M),
    ("second-opinion", "Getting a second opinion",
     "Alder covers a second opinion from an in-network specialist for surgery or a serious diagnosis. HMO members need a PCP referral; "
     "out-of-network second opinions are covered only when no in-network specialist is qualified. Virtual expert second opinions are "
     "available at no cost.", M),
    ("interpreter", "Free interpreter and language services",
     "Interpreter services in more than 200 languages are free for members, by phone or video, including at doctor visits. Documents are "
     "available in Spanish, Vietnamese and Chinese, and in large print or Braille on request.", M),
    # --- internal IT / HR
    ("it-password", "Resetting your Alder network password",
     "Internal IT article. Employees reset their network password at the self-service password page; you'll need your registered MFA "
     "device. Passwords expire every 180 days and must be 14 characters. If your account is locked, wait 15 minutes or call the service "
     "desk.", INT_IT),
    ("it-vpn", "Connecting to the VPN from home",
     "Internal IT article. Install the GlobalConnect VPN client from the software center, sign in with your network ID and approve the MFA "
     "push. Claims and member systems only work on VPN. If the client hangs at 'Connecting', restart it and check your home router.", INT_IT),
    ("it-laptop", "Requesting a replacement laptop",
     "Internal IT article. Laptops are refreshed every four years. For broken or stolen devices, open a hardware ticket; stolen devices must "
     "also be reported to Security within 24 hours. Loaners are available at each office's IT bar.", INT_IT),
    ("it-phishing", "Reporting a phishing email",
     "Internal IT article. Use the 'Report phish' button in Outlook for suspicious emails. Never forward member PHI to personal email. If you "
     "clicked a link or entered your password, change your password immediately and call the service desk.", INT_IT),
    ("it-software", "Requesting new software",
     "Internal IT article. Request software through the service catalog. Software that stores member data needs a security review, which "
     "takes about 15 business days. Free tools and browser extensions also require approval.", INT_IT),
    ("hr-parental", "Parental leave for Alder employees",
     "Internal HR policy. Alder employees receive 16 weeks of paid parental leave after the birth, adoption or foster placement of a child, "
     "usable within 12 months. Notify HR 30 days ahead when possible. Leave runs concurrently with FMLA.", INT_HR),
    ("hr-remote", "Remote and hybrid work policy",
     "Internal HR policy. Most corporate roles are hybrid with two office days per week. Fully remote work requires VP approval and must be "
     "in a state where Alder is registered as an employer. Clinic and member service roles follow site schedules.", INT_HR),
    ("hr-eap", "Employee Assistance Program (EAP)",
     "Internal HR article. Alder employees and household members get six free confidential counseling sessions per issue through the "
     "Employee Assistance Program, plus legal and financial consultations. Call the EAP line any time; HR is not told who uses it.", INT_HR),
    ("hr-staff-plans", "Medical plans for Alder employees",
     "Internal HR article. Alder staff choose between the employee Gold PPO and the employee high-deductible plan with an HSA. These staff "
     "plans have different rates from the Gold PPO sold to members. Premium contributions are deducted from each paycheck before tax.", INT_HR),
]

for key, title, text, meta in HAND:
    add_doc(key, title, text, **meta)

# ---------------------------------------------------------------------------
# 4. HMO vs PPO paired articles and regional network pages (templated)
# ---------------------------------------------------------------------------
PAIR_TOPICS = {
    "specialist": ("Seeing a specialist on {n} plans",
                   {"HMO": "HMO members need a referral from their PCP before most specialist visits, and the specialist must be in the HMO network. The referral is sent electronically and usually covers 6 visits.",
                    "PPO": "PPO members can book any in-network specialist directly, with no referral. You may also see out-of-network specialists at the higher out-of-network cost sharing."}),
    "labs": ("Lab work and imaging on {n} plans",
             {"HMO": "On HMO plans, lab tests must go to the HMO's contracted lab, and imaging needs an order from an in-network provider. Tests sent to other labs are not covered.",
              "PPO": "On PPO plans, any in-network lab or imaging center is covered at in-network rates; out-of-network labs are covered at 50% after the out-of-network deductible."}),
    "mentalhealth": ("Mental health and substance use care on {n} plans",
                     {"HMO": "HMO members can see in-network therapists and psychiatrists without a referral. Residential treatment requires prior authorization and an in-network facility.",
                      "PPO": "PPO members can see in-network or out-of-network behavioral health providers. Out-of-network therapy is reimbursed at 50% and may require you to file a claim."}),
    "changedoc": ("Switching doctors on {n} plans",
                  {"HMO": "On an HMO, switching doctors means changing your assigned PCP; the change takes effect the first of the next month and referrals must come from the new PCP.",
                   "PPO": "On a PPO, you can simply book with another in-network doctor at any time. Updating your preferred PCP in the portal is optional but helps care coordination."}),
    "travel": ("Routine care away from home on {n} plans",
               {"HMO": "HMO plans cover routine care only inside the service area. Away from home you are covered for emergencies and urgent care only.",
                "PPO": "PPO plans include a national partner network, so routine visits away from home can be covered at in-network rates when you use a partner provider."}),
    "maternity": ("Choosing a hospital for delivery on {n} plans",
                  {"HMO": "HMO members must deliver at an HMO network hospital unless it is an emergency. Your OB must also be in the HMO network; no referral is needed for OB care.",
                   "PPO": "PPO members can deliver at any in-network hospital, or out of network at higher cost. Pre-register at your chosen hospital around week 32."}),
    "outofnet": ("What happens if I see an out-of-network provider on {n}?",
                 {"HMO": "On an HMO, out-of-network (out-of-plan) visits are not covered at all unless it is an emergency or an approved referral. You'll owe the full charge.",
                  "PPO": "On a PPO, out-of-network visits are covered after a separate deductible, at 50% coinsurance, and the provider can balance bill you."}),
    "surgery": ("Planning a surgery on {n} plans",
                {"HMO": "For planned surgery on an HMO, your PCP refers you to an in-network surgeon, who requests prior authorization. The facility must be in the HMO network.",
                 "PPO": "For planned surgery on a PPO, choose an in-network surgeon and facility; the surgeon requests prior authorization. Out-of-network surgery costs much more."}),
}
PAIR_TAIL = [
    "This applies to Bronze, Silver, Gold and Platinum {n} plans in every plan year.",
    "The rule is the same for individual and employer-sponsored {n} plans.",
    "Check your plan summary for the copays that apply on your {n} plan.",
]
for t, (title_t, texts) in PAIR_TOPICS.items():
    for n in NETS:
        add_doc(f"pair-{t}-{n}".lower(), title_t.format(n=n),
                f"{texts[n]} {rng.choice(PAIR_TAIL).format(n=n)} {rng.choice(CLOSERS)} {rng.choice(CLOSERS)}",
                product=f"All {n} plans", category="member-help")

REGIONS = {
    "portland": ("Portland metro", "Alder Riverside Medical Center, St. Helena Hospital and Cedar Valley Hospital"),
    "seattle": ("Seattle and Puget Sound", "Harborview Heights Hospital, Alder North Medical Center and Evergreen Bay Hospital"),
    "spokane": ("Spokane and eastern Washington", "Inland Empire Medical Center and Alder Spokane Clinic Hospital"),
    "boise": ("Boise and Treasure Valley", "Treasure Valley Regional Hospital and Alder Boise Medical Center"),
    "salem": ("Salem and the Willamette Valley", "Willamette General Hospital and Alder Salem Medical Center"),
    "eugene": ("Eugene and Lane County", "McKenzie River Hospital and Alder Eugene Medical Center"),
    "bend": ("Bend and Central Oregon", "High Desert Medical Center"),
    "tacoma": ("Tacoma and South Sound", "Narrows Regional Hospital and Alder Tacoma Medical Center"),
}
for rk, (rname, hosp) in REGIONS.items():
    add_doc(f"region-hosp-{rk}", f"In-network hospitals and urgent care in {rname}",
            f"Alder members in {rname} can use these in-network hospitals: {hosp}. Alder CarePoint urgent care clinics are open "
            f"8am to 8pm daily. HMO members must use these facilities for non-emergency care; PPO members may also use the national "
            f"partner network when travelling. The directory lists current hours and which locations have on-site imaging. "
            f"{rng.choice(CLOSERS)}", product="Network", region=rname, category="network")
    add_doc(f"region-bh-{rk}", f"Behavioral health providers in {rname}",
            f"Members in {rname} can find in-network therapists, psychiatrists and substance use programs in the directory under "
            f"Behavioral health. Several clinics in the area offer same-week intake appointments and evening telehealth sessions. "
            f"Inpatient psychiatric care is available at {hosp.split(' and ')[0].split(', ')[0]}. No referral is needed. "
            f"{rng.choice(CLOSERS)}", product="Network", region=rname, category="network")

# ---------------------------------------------------------------------------
# 5. More acronym collisions, member FAQs and internal articles
# ---------------------------------------------------------------------------
HAND2 = [
    ("ot-therapy", "Occupational therapy (OT) coverage",
     "Occupational therapy (OT) helps members regain everyday skills such as dressing, cooking or writing after an injury, stroke or "
     "surgery. OT is covered with a prescription and counts toward the combined 30-visit therapy limit with physical and speech therapy. "
     "Pediatric OT for developmental delays is covered on all plans.", M),
    ("ot-overtime", "Overtime (OT) rules for non-exempt employees",
     "Internal HR policy. Non-exempt Alder employees earn overtime (OT) at 1.5 times their regular rate for hours over 40 in a work week, "
     "and double time on company holidays worked. All OT must be approved in advance by your manager and recorded in the timekeeping "
     "system before the pay period closes.", INT_HR),
    ("pt-parttime", "Benefits eligibility for part-time (PT) employees",
     "Internal HR policy. Part-time (PT) Alder employees scheduled 20 to 29 hours per week are eligible for the employee medical plans, "
     "the 401(k) and prorated PTO. Employees under 20 hours are eligible for the 401(k) only. Status changes between PT and full-time take "
     "effect the first of the following month.", INT_HR),
    ("loa-leave", "Requesting a leave of absence (LOA)",
     "Internal HR article. Employees request a medical, family or personal leave of absence (LOA) through the leave portal at least 30 days "
     "in advance when the need is foreseeable. Our leave administrator reviews FMLA and state leave eligibility. Benefits continue during "
     "an approved LOA, and you pay your usual premium share.", INT_HR),
    ("loa-provider", "Letters of agreement (LOA) for single-case agreements",
     "Provider contracting article. When a member needs care only an out-of-network provider can deliver, Alder may sign a letter of "
     "agreement (LOA), also called a single-case agreement, so the provider is paid at negotiated rates and the member pays in-network "
     "cost sharing. Requests go through the network management team.", PROV),
    ("sbc-find", "Where to find your Summary of Benefits and Coverage (SBC)",
     "The Summary of Benefits and Coverage (SBC), sometimes called the summary of benefits, is a standard document that lists your "
     "plan's deductible, copays, coinsurance and coverage examples. Download it from Plan documents in the member portal, or request a "
     "free paper copy. There is one SBC per plan and plan year.", M),
    ("sob-breathing", "Shortness of breath (SOB): when to seek emergency care",
     "Nurse line guidance. Sudden or severe shortness of breath (SOB), especially with chest pain, blue lips or confusion, is an "
     "emergency: call 911 or go to the ER. Mild breathlessness with a cold can usually be managed with a telehealth or urgent care visit. "
     "Members with asthma or COPD should follow their action plan.", M),
    ("ma-advantage", "Alder Medicare Advantage (MA) plans overview",
     "Alder Medicare Advantage (MA) plans combine Medicare Part A, Part B and usually Part D drug coverage in one plan, with extras like "
     "dental and fitness. You must be enrolled in Medicare Part A and B to join. MA plans have their own member services number and "
     "enrollment periods.", M),
    ("ma-assistant", "Medical assistant (MA) roles at CarePoint clinics",
     "Internal HR article. Medical assistants (MAs) at Alder CarePoint clinics room patients, take vitals, give immunizations and update "
     "charts under the supervision of a physician, PA or NP. New MAs need a current certification and complete a two-week clinical "
     "orientation. MA job openings are posted on the clinical careers page.", INT_HR),
    ("snf", "Skilled nursing facility (SNF) stays",
     "After a hospital stay, Alder covers up to 60 days per plan year in an in-network skilled nursing facility (SNF) when you need daily "
     "skilled care such as wound care or IV therapy. Prior authorization is required. Custodial care, like help bathing, is not covered.", M),
    ("home-health", "Home health care",
     "Home health visits from nurses and therapists are covered when you are homebound and your doctor orders skilled care. Visits must "
     "be from an in-network home health agency and require prior authorization after the first 10 visits. Personal care aides are not "
     "covered.", M),
    ("hospice", "Hospice and palliative care",
     "Hospice care for members with a life expectancy of six months or less is covered at 100% with no deductible, at home or in a "
     "facility. Palliative care to manage symptoms of a serious illness is covered alongside ongoing treatment. A care manager can help "
     "families arrange services.", M),
    ("transplant", "Organ transplant coverage",
     "Organ and bone marrow transplants are covered at Alder's designated Centers of Excellence after prior authorization. Travel and "
     "lodging for the patient and one caregiver are reimbursed up to $10,000 when the center is more than 100 miles from home.", M),
    ("infertility", "Fertility and infertility coverage",
     "Alder plans cover diagnosis of infertility and treatment of underlying conditions. IVF is covered only on Platinum plans and by "
     "employer groups that buy the fertility rider, up to three cycles per lifetime. Fertility medications require prior authorization.", M),
    ("chiro-acu", "Chiropractic and acupuncture",
     "Chiropractic adjustments and acupuncture are covered up to 12 visits each per plan year on Silver, Gold and Platinum plans, at "
     "the specialist copay. Bronze plans cover them after the deductible. No referral is needed, even on HMO plans.", M),
    ("diabetes-program", "Diabetes prevention and management program",
     "Members with diabetes or prediabetes can join the Alder Healthy Balance program at no cost. It includes a health coach, a "
     "connected glucose meter, unlimited test strips and nutrition classes. Enroll in the app under Programs.", M),
    ("cost-estimator", "Estimating the cost of a procedure",
     "The Cost estimator in the member portal shows what you would likely pay for common procedures, such as an MRI or a knee "
     "replacement, at different in-network facilities. Estimates use your remaining deductible and out-of-pocket maximum. Actual costs "
     "depend on the services billed.", M),
    ("directory-error", "Reporting an error in the provider directory",
     "If a doctor listed as in-network tells you they do not take Alder, or the address or phone number is wrong, report it with the "
     "'Report an issue' link on the provider's directory page. If you relied on an incorrect directory listing, you pay only in-network "
     "cost sharing.", M),
    ("auth-rep", "Naming an authorized representative",
     "To let a family member or advocate talk to Alder about your claims and appeals, submit the authorized representative form in the "
     "portal. Parents of minors do not need one. Adult children on your plan must sign their own form before we can share their "
     "information with you.", M),
    ("hipaa-access", "Requesting a copy of your health records from Alder",
     "You have a right to request the claims and enrollment records Alder holds about you. Submit a records request in the portal under "
     "Privacy; we respond within 30 days. Medical records from your doctor must be requested from the doctor's office.", M),
    ("urgent-find", "Finding urgent care near you",
     "Use the app's Find care > Urgent care search to see in-network urgent care centers with current wait times. Retail clinics in "
     "pharmacies are covered at the primary care copay. Freestanding emergency rooms look like urgent care but are billed as ER visits.", M),
    ("hr-performance", "Annual performance review cycle",
     "Internal HR article. Alder runs performance reviews once a year. Employees write a self-review in November, managers complete "
     "reviews by mid-December, and merit increases take effect in March. Mid-year check-ins are encouraged but not rated.", INT_HR),
    ("hr-tuition", "Tuition assistance for employees",
     "Internal HR policy. After six months of service, employees can receive up to $5,250 per year in tuition assistance for "
     "job-related degrees and certifications. Apply before the course starts and submit grades within 30 days of completion.", INT_HR),
    ("it-mfa-phone", "Moving MFA to a new phone (employees)",
     "Internal IT article. Before you trade in your old phone, open the MFA portal and add the new device. If you already lost the old "
     "phone, call the service desk with your employee ID to get a temporary bypass code valid for 24 hours.", INT_IT),
    ("it-printer", "Adding a network printer",
     "Internal IT article. Printers are added from the software center under Printers; pick your office and floor. Print jobs are held "
     "until you badge in at the printer. Printing member PHI at home is not allowed.", INT_IT),
    ("it-shared-mailbox", "Requesting access to a shared mailbox",
     "Internal IT article. Access to team mailboxes, such as the appeals or Employee Relations inbox, is requested in the service catalog "
     "and approved by the mailbox owner. Access appears in Outlook within four hours of approval.", INT_IT),
    ("clinic-hours", "Alder CarePoint clinic hours and services",
     "CarePoint clinics offer primary care, lab draws, vaccines and minor procedures. Most are open 8am to 8pm on weekdays and 9am to 5pm "
     "on weekends. Visits are billed at your plan's PCP copay. Book online or walk in.", M),
    ("vaccines", "Vaccines and flu shots",
     "Recommended vaccines, including flu, COVID-19, shingles and childhood immunizations, are covered at no cost at in-network "
     "pharmacies, CarePoint clinics and doctors' offices. Travel vaccines such as typhoid are not covered.", M),
    ("gym", "Fitness and gym discount program",
     "Members get discounted gym memberships at participating fitness centers and free access to the Alder Move app. Gold and Platinum "
     "members can also get a $150 annual fitness reimbursement after 50 gym visits.", M),
]
for key, title, text, meta in HAND2:
    add_doc(key, title, text, **meta)

WELL = {2023: (150, 8), 2024: (200, 10), 2025: (250, 12), 2026: (300, 12)}
EMP_OE = {2023: ("October 31", "November 11, 2022"), 2024: ("October 30", "November 10, 2023"), 2025: ("October 28", "November 8, 2024"),
          2026: ("October 27", "November 7, 2025")}
for y in YEARS:
    add_doc(f"wellness-{y}", f"Alder Wellness Rewards {y}",
            f"Members on individual Alder plans can earn up to {money(WELL[y][0])} in gift cards in {y} through Wellness Rewards: "
            f"complete a health assessment, get an annual physical, and log {WELL[y][1]} weeks of activity in the Alder Move app. "
            f"Rewards must be claimed by January 31, {y + 1}. Employer groups may offer different rewards.",
            product="Wellness", year=y, category="benefits")
    add_doc(f"emp-oe-{y}", f"Employee open enrollment for {y} benefits",
            f"Internal HR article for Alder employees. Staff benefits open enrollment for {y} runs from {EMP_OE[y][0]} to "
            f"{EMP_OE[y][1]} in Workday. This is separate from member open enrollment, which Member Services supports. If you do "
            f"nothing, your current elections roll over except the FSA, which you must re-elect each year.",
            product="Employee benefits", year=y, category="internal-hr")
    rows = []
    for metal in METALS:
        pp = PLAN[(metal, "PPO", y)]
        rows.append(f"{metal}: deductible {money(pp['ded'])}, out-of-pocket max {money(pp['oop'])}")
    add_doc(f"compare-{y}", f"Comparing Bronze, Silver, Gold and Platinum plans ({y})",
            f"Metal levels describe how you and Alder share costs, not the quality of care. In {y}, PPO figures for an individual are: "
            f"{'; '.join(rows)}. HMO versions have lower deductibles and premiums but require in-network care and referrals. Lower "
            f"metals have lower premiums but higher costs when you use care. See each plan's summary for copays.",
            product="All plans", year=y, category="plan-summary")
    add_doc(f"whats-new-{y}", f"What's new for the {y} plan year",
            f"Highlights for {y}: {PA_NEW[y].split(', ')[0]} now requires prior authorization; the insulin cap is "
            f"{money(INSULIN[y])}; Alder Telehealth urgent visits cost {TELE[y]} on most plans; and "
            f"{'Silver PPO becomes HSA-qualified' if y == 2025 else ('deductibles rise modestly across all metals' if y == 2026 else 'the Bronze plans join the national partner network for PPO members')}. "
            f"Check your plan summary for updated deductibles and copays.",
            product="All plans", year=y, category="policy")

HAND3 = [
    ("pa-status", "Checking the status of a prior authorization",
     "To see whether a prior authorization has been approved, open Coverage > Authorizations in the member portal. Each request shows "
     "Submitted, In review, Approved (with approved dates and number of visits) or Denied. If nothing appears, your provider may not have "
     "submitted it yet. A pending authorization is not a pending claim; claims appear separately under Claims.", M),
    ("appeal-status", "Checking the status of an appeal",
     "After you file an appeal, you'll receive an acknowledgement letter within 5 business days with a case number. Track the appeal in "
     "the portal under Claims > Appeals, or call the appeals unit with your case number. Standard post-service appeals are decided "
     "within 60 days; you will get the decision in writing.", M),
    ("dep-stepchild", "Adding a stepchild or legal ward",
     "Stepchildren and children for whom you are the legal guardian can be added like any other child. Upload the marriage certificate "
     "showing your relationship to the child's parent, or the court guardianship order. Add them during open enrollment, within 60 days "
     "of marriage, or within 60 days of the guardianship order.", M),
    ("eob-copy", "Getting a copy of an old EOB",
     "Explanation of Benefits statements from the last 24 months can be downloaded as PDFs from Claims in the member portal. For older "
     "EOBs, for example for a tax return or an HSA audit, request copies from Member Services; they are mailed within 10 business days.", M),
    ("hmo-service-area", "HMO service areas by county",
     "Alder HMO plans are offered in selected counties in Oregon, Washington and Idaho. You must live in the service area to enroll. If you "
     "move out of the service area, you qualify for a special enrollment period to switch to a PPO or a plan available where you now live.", M),
    ("ppo-national", "The national partner network for PPO members",
     "Alder PPO members can use a national partner network of doctors and hospitals outside Oregon, Washington and Idaho at in-network "
     "cost sharing. Show your ID card, which carries the partner logo. Partner providers file claims with Alder directly, so you do not "
     "need to submit a claim yourself.", M),
]
for key, title, text, meta in HAND3:
    add_doc(key, title, text, **meta)

# Pad very short hand-written articles with a neutral closing line.
for key, d in DOCS.items():
    if len(d["text"].split()) < 45:
        pool = CLOSERS[:4] if not d["metadata"].get("category", "").startswith("internal") else [
            "Contact the People Team or the IT service desk through the intranet if you have questions about this article.",
            "This internal article is maintained by the owning team and reviewed twice a year.",
        ]
        d["text"] += " " + rng.choice(pool)

# ---------------------------------------------------------------------------
# 6. Queries
# ---------------------------------------------------------------------------
METAL_TYPO = {"Bronze": ["bronz", "bronze"], "Silver": ["silvr", "silver"], "Gold": ["gold", "gld"],
              "Platinum": ["platnum", "plat", "platinum"]}


def messy_plan(metal: str, net: str, year: int) -> dict:
    m = metal if rng.random() < 0.35 else rng.choice(METAL_TYPO[metal]) if rng.random() < 0.3 else metal.lower()
    n = net if rng.random() < 0.5 else net.lower()
    y = str(year) if rng.random() < 0.75 else f"'{str(year)[2:]}" if rng.random() < 0.5 else str(year)[2:]
    return dict(m=m, n=n, y=y)


PLAN_Q = {
    "ded": ["{m} {n} {y} deductible", "what is the deductible for {m} {n} in {y}", "{m} {n} {y} oop max",
            "out of pocket maximum {m} {n} {y} family", "how much is the {y} {m} {n} deductible?",
            "{m} {n} {y} max out of pocket", "{y} {m} {n} deductible and moop", "family deductible {m} {n} {y}",
            "what do i pay before insurance kicks in {m} {n} {y}", "most i would pay in a year on {m} {n} {y}"],
    "visits": ["{m} {n} {y} specialist copay", "how much is an ER visit on {m} {n} {y}", "urgent care copay {m} {n} {y}",
               "{y} {m} {n} pcp visit cost", "telehealth copay {m} {n} {y}", "what do i pay to see my doctor on {m} {n} {y}",
               "{m} {n} {y} emergency room cost",
               "cost of seeing a cardiologist {m} {n} {y}", "{m} {n} {y} how much for urgent care"],
    "rx": ["{m} {n} {y} generic drug copay", "specialty drug coinsurance {m} {n} {y}", "{m} {n} {y} rx tiers",
           "mail order prescriptions cost {m} {n} {y}", "tier 2 brand name drug price {m} {n} {y}",
           "how much are prescriptions on {m} {n} for {y}",
           "how much for my kid's antibiotics on {m} {n} {y}", "{m} {n} {y} humira cost"],
    "prem": ["{m} {n} {y} premium", "how much does {m} {n} cost per month in {y}", "is {m} {n} {y} hsa eligible",
             "{y} monthly rate {m} {n} age 40", "{m} {n} {y} price for family", "monthly cost {m} {n} {y} for a 40 year old"],
}
KINDS = ["ded", "visits", "rx", "prem"]
N_PLAN_Q = 100
combos = [(m, n, y, k) for m in METALS for n in NETS for y in YEARS for k in KINDS]
rng.shuffle(combos)
for metal, net, year, kind in combos[:N_PLAN_Q]:
    q = rng.choice(PLAN_Q[kind]).format(**messy_plan(metal, net, year))
    j = {plan_key(kind, metal, net, year): 5}
    other_years = [y for y in YEARS if y != year]
    for oy in rng.sample(other_years, rng.choice([1, 2])):
        j[plan_key(kind, metal, net, oy)] = 0
    other_net = "PPO" if net == "HMO" else "HMO"
    j[plan_key(kind, metal, other_net, year)] = rng.choice([0, 1])
    if kind == "ded":
        j[f"compare-{year}"] = 3 if net == "PPO" else 1
        if "oop" in q or "out of pocket" in q:
            j["oop-what-counts"] = 2
    elif kind == "prem" and "hsa" in q:
        j["hsa-eligible-plans"] = 3
    else:
        ok = rng.choice([k for k in KINDS if k != kind])
        j[plan_key(ok, metal, net, year)] = 1
    add_query(q, j)

YEARLY_Q = {
    "hsa-limits": (["hsa contribution limit {y}", "how much can i put in my HSA in {y}", "{y} hsa max family",
                    "hsa limits {y} catch up"], {"hsa-eligible-plans": 1}, "emp-hsa"),
    "fsa-limits": (["fsa limit {y}", "how much fsa rollover into {y1}", "{y} health fsa max"], {"hsa-hra-fsa": 1}, None),
    "emp-hsa": (["how much does alder put in my hsa {y} employee", "company hsa contribution {y}",
                 "employer hsa seed money {y} staff"], {"hr-staff-plans": 2}, "hsa-limits"),
    "k401": (["401k match {y}", "{y} 401(k) contribution limit employees", "what is the company 401k match in {y}"], {}, None),
    "pto": (["pto carryover {y}", "how many PTO days do i get in {y}", "{y} vacation policy carry over hours"],
            {"holidays-{y}": 1}, None),
    "holidays": (["company holidays {y}", "floating holidays {y}", "is juneteenth a paid holiday {y}"], {"pto-{y}": 1}, None),
    "mileage": (["mileage rate {y}", "{y} mileage reimbursement cents per mile"], {"eob-expense-cutoff": 1}, None),
    "pa-list": (["what needs prior auth in {y}", "{y} PA list", "new prior authorization requirements {y}",
                 "does a sleep study need PA in {y}"], {"pa-check": 2, "pa-what": 1}, None),
    "open-enroll": (["open enrollment dates for {y} coverage", "when does open enrollment end for {y} plans",
                     "{y} OE deadline"], {"qle": 1}, "emp-oe"),
    "emp-oe": (["employee benefits open enrollment {y} workday", "staff OE dates {y}"], {"hr-staff-plans": 1}, "open-enroll"),
    "telehealth": (["telehealth visit cost {y}", "{y} virtual visit price", "how much is a video visit in {y}"], {}, None),
    "formulary": (["formulary changes {y}", "{y} drug list changes", "was my drug removed from the formulary in {y}"],
                  {"glp1": 1}, None),
    "insulin": (["insulin cap {y}", "how much is insulin in {y}", "{y} insulin copay max"], {"diabetes-program": 1}, None),
    "dental": (["dental annual max {y}", "{y} dental add on crowns coverage"], {}, None),
    "wellness": (["wellness rewards {y}", "how much can i earn wellness gift cards {y}"], {"gym": 1}, None),
    "whats-new": (["what changed in {y}", "whats new for {y} plans"], {}, None),
}
yq = []
for topic, (templates, related, sibling) in YEARLY_Q.items():
    n_q = 2 if len(templates) >= 3 else 1
    for y in rng.sample(YEARS, n_q):
        q = rng.choice(templates).format(y=y, y1=y + 1)
        j = {f"{topic}-{y}": 5}
        for oy in rng.sample([oy for oy in YEARS if oy != y], 2 if not sibling else 1):
            j[f"{topic}-{oy}"] = 0
        if sibling:
            j[f"{sibling}-{y}"] = 0
        for k, g in related.items():
            j[k.format(y=y)] = g
        add_query(q, j)

HANDQ = [
    ("does my doctor have to get approval before my MRI", {"pa-imaging": 5, "pa-check": 3, "pa-what": 2, "physasst-visit": 0, "pa-list-2025": 1}),
    ("PA required for knee surgery?", {"pa-check": 4, "pa-what": 3, "pair-surgery-hmo": 2, "physasst-pcp": 0, "physasst-visit": 0}),
    ("how many days until insurance approves my procedure", {"pa-turnaround": 5, "pa-provider-submit": 2, "pa-what": 1, "physasst-hiring": 0}),
    ("insurance said no to my doctor's request for the surgery, what now", {"pa-denied": 5, "claim-appeal": 2, "claim-appeal-expedited": 2, "physasst-supervision": 0}),
    ("urgent PA turnaround time", {"pa-turnaround": 5, "claim-appeal-expedited": 1, "pa-denied": 1, "physasst-visit": 0}),
    ("they want me to try a cheaper drug first before humira", {"pa-specialty-rx": 5, "glp1": 2, "formulary-2025": 1}),
    ("clinic staff: where do we send auth requests", {"pa-provider-submit": 5, "pa-check": 2, "physasst-hiring": 0, "claim-corrected": 0}),
    ("switching insurance in the middle of treatment, old insurer approved it", {"pa-transfer": 5, "pa-what": 1, "qle": 1}),
    ("admitted thru the ER do i need an authorization", {"pa-retro": 5, "er-copay-admit": 2, "pa-what": 1, "er-contact": 0}),
    ("prior auth status", {"pa-status": 5, "pa-turnaround": 2, "claim-status": 0, "appeal-status": 0}),
    ("can I see a PA instead of my doctor", {"physasst-visit": 5, "physasst-pcp": 4, "pa-what": 0, "pa-check": 0}),
    ("appointment was with a PA not the MD, does it cost more", {"physasst-visit": 5, "physasst-pcp": 2, "pa-what": 0}),
    ("choose PA-C as primary care provider", {"physasst-pcp": 5, "pcp-choose": 3, "physasst-visit": 2, "pa-what": 0}),
    ("credentialing new PA hire carepoint", {"physasst-hiring": 5, "physasst-supervision": 2, "ma-assistant": 1, "pa-provider-submit": 0}),
    ("PA supervising physician agreement", {"physasst-supervision": 5, "physasst-hiring": 2, "pa-provider-submit": 0}),
    ("PA education allowance", {"physasst-cme": 5, "physasst-hiring": 1, "hr-tuition": 1}),
    ("do premiums count toward oop", {"oop-what-counts": 5, "oop-vs-deductible": 3, "oon-hmo": 0, "oop-claims-shorthand": 0}),
    ("deductible vs moop", {"oop-vs-deductible": 5, "oop-what-counts": 3, "plan-ded-silver-ppo-2025": 1}),
    ("where can i see how close i am to meeting my deductible", {"oop-tracker": 5, "oop-what-counts": 1, "claim-status": 1}),
    ("OOP provider on HMO not covered?", {"oon-hmo": 5, "pair-outofnet-hmo": 4, "oop-what-counts": 0, "oop-vs-deductible": 0}),
    ("my favorite doctor isn't in network, ppo, what will i pay", {"oon-ppo": 5, "pair-outofnet-ppo": 4, "oon-hmo": 1, "oon-balance-bill": 2}),
    ("anesthesia bill after in-network surgery, they say they're not contracted", {"oon-balance-bill": 5, "er-out-of-network": 1, "eob-not-bill": 1}),
    ("what does OOP mean in claim notes", {"oop-claims-shorthand": 5, "oon-hmo": 2, "oop-what-counts": 1}),
    ("traveling to another state am i covered on hmo", {"pair-travel-hmo": 5, "oon-travel": 4, "pair-travel-ppo": 0, "ppo-national": 0}),
    ("what does 'your responsibility' mean on the EOB", {"eob-read": 5, "eob-not-bill": 3, "eob-expense-cutoff": 0, "eob-payroll-changes": 0}),
    ("got an EOB do I need to pay it", {"eob-not-bill": 5, "eob-read": 3, "eob-vendor-invoices": 0}),
    ("too much mail from alder, want statements by email", {"eob-paperless": 5, "eob-read": 1, "eob-missing": 1, "eob-copy": 1}),
    ("never got explanation of benefits for my visit", {"eob-missing": 5, "claim-status": 3, "eob-paperless": 1, "eob-copy": 1}),
    ("need EOB from 2021 for taxes", {"eob-copy": 5, "eob-paperless": 2, "eob-expense-cutoff": 0}),
    ("expense report deadline EOB", {"eob-expense-cutoff": 5, "mileage-2025": 1, "eob-read": 0, "eob-not-bill": 0}),
    ("when is the cutoff to change direct deposit", {"eob-payroll-changes": 5, "eob-expense-cutoff": 1}),
    ("quarter end invoice approval deadline", {"eob-vendor-invoices": 5, "cob-month-end": 2, "eob-expense-cutoff": 1}),
    ("I have insurance through my wife too, who pays first", {"cob-what": 5, "cob-birthday": 2, "cob-medicare": 2, "cob-change-freeze": 0}),
    ("kids are on my plan and my husband's, which one gets billed first", {"cob-birthday": 5, "cob-what": 3}),
    ("medicare and alder group plan which is primary", {"cob-medicare": 5, "cob-what": 3, "medicare-65": 2, "ma-advantage": 1}),
    ("claim pending COB", {"cob-claim-pended": 5, "cob-questionnaire": 3, "claim-status": 2, "cob-change-freeze": 0, "cob-month-end": 0}),
    ("alder keeps asking if I have other insurance", {"cob-questionnaire": 5, "cob-claim-pended": 3, "cob-what": 2, "cob-helpdesk-hours": 0}),
    ("can I deploy to prod the friday before thanksgiving", {"cob-change-freeze": 5, "holidays-2025": 1, "cob-what": 0}),
    ("help desk hours after close of business", {"cob-helpdesk-hours": 5, "cob-change-freeze": 1, "it-password": 1}),
    ("journal entries due COB", {"cob-month-end": 5, "eob-vendor-invoices": 1, "cob-questionnaire": 0}),
    ("twisted ankle, urgent care or hospital?", {"er-vs-urgent": 5, "urgent-find": 2, "nurse-line": 2, "er-contact": 0}),
    ("ER copay if admitted", {"er-copay-admit": 5, "pa-retro": 2, "er-investigations": 0}),
    ("ended up in an emergency room that's not in network while on vacation", {"er-out-of-network": 5, "oon-balance-bill": 2, "ambulance": 1, "er-contact": 0}),
    ("my supervisor keeps yelling at me who do i talk to", {"er-contact": 5, "er-investigations": 3, "grievance": 0}),
    ("report harassment to ER", {"er-contact": 5, "er-investigations": 4, "er-vs-urgent": 0, "er-followup": 0}),
    ("how long do ER investigations take", {"er-investigations": 5, "er-contact": 2, "er-followup": 0}),
    ("need a special chair because of back problems, how do i ask", {"er-accommodation": 5, "hr-parental": 1, "maternity": 0}),
    ("follow up after emergency room visit", {"er-followup": 5, "er-vs-urgent": 1, "er-contact": 0}),
    ("can i contribute to a health savings account with my plan", {"hsa-eligible-plans": 5, "hsa-open": 2, "hsa-hra-fsa": 2, "emp-hsa-2025": 0}),
    ("hsa vs hra difference", {"hsa-hra-fsa": 5, "hra-gold": 3, "hsa-eligible-plans": 2, "fsa-limited": 1}),
    ("gold plan hra how much", {"hra-gold": 5, "hsa-hra-fsa": 2, "emp-hsa-2025": 0}),
    ("I have an HSA can i still use an FSA for braces", {"fsa-limited": 5, "fsa-limits-2025": 1, "hsa-hra-fsa": 2}),
    ("open an HSA account", {"hsa-open": 5, "hsa-eligible-plans": 2, "hsa-leaving": 1, "emp-hsa-2026": 0}),
    ("can i use hsa for glasses", {"hsa-qualified-expenses": 5, "fsa-limited": 2, "vision": 1}),
    ("leaving my job what happens to hsa money", {"hsa-leaving": 5, "cobra": 1, "hsa-qualified-expenses": 1, "emp-hsa-2025": 0}),
    ("sleep apnea machine coverage", {"dme-cpap": 5, "dme-what": 3, "dme-rental": 2, "dme-team-request": 0}),
    ("wheelchair rent or buy", {"dme-rental": 5, "dme-what": 3, "dme-supplier": 1, "dme-team-oncall": 0}),
    ("where do i get a walker covered by insurance", {"dme-supplier": 5, "dme-what": 2, "dme-team-request": 0}),
    ("DME coverage", {"dme-what": 5, "dme-rental": 2, "dme-cpap": 2, "dme-team-request": 0, "dme-team-oncall": 0}),
    ("request dashboard from DME", {"dme-team-request": 5, "dme-team-oncall": 2, "dme-what": 0, "dme-supplier": 0}),
    ("enrollment data in the dashboard is 2 days old", {"dme-team-oncall": 5, "cob-helpdesk-hours": 2, "dme-team-request": 1}),
    ("how do i pick a pcp", {"pcp-choose": 5, "pcp-change": 2, "physasst-pcp": 2, "pcard-program": 0}),
    ("don't like my assigned doctor want a different one", {"pcp-change": 5, "pair-changedoc-hmo": 3, "pair-changedoc-ppo": 3, "pcp-choose": 2}),
    ("need referral to see dermatologist hmo", {"pcp-referral-hmo": 5, "pair-specialist-hmo": 5, "pair-specialist-ppo": 0, "pcp-choose": 1}),
    ("how to get a PCP card", {"pcard-program": 5, "pcard-limits": 2, "pcp-choose": 0, "pcp-change": 0}),
    ("max I can spend on the company card", {"pcard-limits": 5, "pcard-program": 2, "pcp-referral-hmo": 0}),
    ("paid the therapist myself, how do i get my money back", {"claim-submit": 5, "claim-abroad": 2, "claim-status": 1, "claim-corrected": 0}),
    ("has my claim from last month been paid yet", {"claim-status": 5, "eob-missing": 2, "claim-submit": 1, "pa-status": 0, "appeal-status": 0}),
    ("disagree with a denial, how to fight it", {"claim-appeal": 5, "claim-external-review": 2, "claim-denial-reasons": 2, "pa-denied": 1, "appeal-status": 1}),
    ("how long do i have to appeal", {"claim-appeal": 5, "claim-timely-filing": 1, "claim-external-review": 2}),
    ("independent external review", {"claim-external-review": 5, "claim-appeal": 2}),
    ("what does the remark code on my denial mean", {"claim-denial-reasons": 5, "claim-appeal": 2, "eob-read": 2}),
    ("corrected claim frequency code 7", {"claim-corrected": 5, "claim-submit": 0, "claim-timely-filing": 1}),
    ("doctor submitted the bill 8 months late, do i owe it", {"claim-timely-filing": 5, "claim-denial-reasons": 2, "claim-submit": 1}),
    ("got sick in mexico how do i get reimbursed", {"claim-abroad": 5, "claim-submit": 3, "oon-travel": 2}),
    ("complaint about rude customer service rep", {"grievance": 5, "er-contact": 0, "claim-appeal": 1}),
    ("surgery next week and coverage was denied, need a fast decision", {"claim-appeal-expedited": 5, "pa-denied": 3, "claim-appeal": 2}),
    ("status of my appeal", {"appeal-status": 5, "claim-status": 1, "claim-appeal": 2, "pa-status": 0}),
    ("just got married, how do i put my husband on my insurance", {"dep-add": 5, "qle": 3, "emp-dep-add": 0, "dep-remove": 0}),
    ("had a baby last week what do i need to do", {"dep-newborn": 5, "maternity": 2, "dep-add": 2, "emp-dep-add": 0}),
    ("divorce is final, take him off my coverage", {"dep-remove": 5, "qle": 2, "emp-dep-remove": 0, "dep-add": 0}),
    ("my daughter turns 26 soon does she lose coverage", {"dep-age26": 5, "dep-disabled": 2, "qle": 1}),
    ("disabled child over 26 coverage", {"dep-disabled": 5, "dep-age26": 3}),
    ("domestic partner coverage", {"dep-domestic-partner": 5, "emp-dep-add": 1, "dep-add": 2}),
    ("drop dependent from my employee benefits workday", {"emp-dep-remove": 5, "emp-dep-add": 2, "dep-remove": 0}),
    ("employee: add baby to my staff benefits", {"emp-dep-add": 5, "dep-newborn": 0, "emp-dep-remove": 1}),
    ("add stepchild", {"dep-stepchild": 5, "dep-add": 3, "emp-dep-add": 0}),
    ("can i change plans mid year", {"qle": 5, "open-enroll-2025": 1, "address-change": 1, "hmo-service-area": 1}),
    ("pharmacy needs my card and I can't find it", {"id-card": 5, "address-change": 1}),
    ("can't sign in to my alder account", {"portal-login": 5, "portal-2fa": 2, "it-password": 0}),
    ("locked out of my work computer", {"it-password": 5, "portal-login": 0, "it-mfa-phone": 2}),
    ("new phone verification codes not working for portal", {"portal-2fa": 5, "it-mfa-phone": 0, "portal-login": 2}),
    ("got a new phone need mfa for work account", {"it-mfa-phone": 5, "portal-2fa": 0, "it-password": 1}),
    ("90 day supply mail order", {"mail-order": 5, "formulary-2026": 0}),
    ("hearing aids covered?", {"hearing-aids": 5, "hsa-qualified-expenses": 1}),
    ("find a therapist", {"mental-health": 5, "pair-mentalhealth-hmo": 2, "pair-mentalhealth-ppo": 2, "hr-eap": 0}),
    ("is there a cap on physical therapy sessions", {"pt-limits": 5, "ot-therapy": 2, "pt-parttime": 0}),
    ("part time employee benefits eligibility", {"pt-parttime": 5, "pt-limits": 0, "hr-staff-plans": 1}),
    ("my mom needs OT after her stroke", {"ot-therapy": 5, "pt-limits": 3, "ot-overtime": 0}),
    ("OT pay for hourly employees", {"ot-overtime": 5, "ot-therapy": 0, "holidays-2025": 1}),
    ("LOA request", {"loa-leave": 5, "hr-parental": 2, "loa-provider": 0}),
    ("only surgeon who can do this is out of network, can alder make an exception", {"loa-provider": 5, "oon-ppo": 1, "loa-leave": 0}),
    ("SOB when to go to er", {"sob-breathing": 5, "er-vs-urgent": 3, "nurse-line": 2, "sbc-find": 0}),
    ("SBC for my plan", {"sbc-find": 5, "sob-breathing": 0, "compare-2025": 1}),
    ("MA plan medicare advantage", {"ma-advantage": 5, "medicare-65": 2, "ma-assistant": 0, "cob-medicare": 1}),
    ("medical assistant certification carepoint", {"ma-assistant": 5, "ma-advantage": 0, "physasst-hiring": 1}),
    ("ambulance bill out of network", {"ambulance": 5, "oon-balance-bill": 2, "er-out-of-network": 2}),
    ("dad needs a rehab facility after hip surgery", {"snf": 5, "home-health": 2, "hospice": 1}),
    ("ivf coverage", {"infertility": 5}),
    ("chiropractor visits limit", {"chiro-acu": 5, "pt-limits": 1}),
    ("how much will an MRI cost me", {"cost-estimator": 5, "pa-imaging": 2, "pair-labs-ppo": 1}),
    ("doctor says they dont take alder but directory says in network", {"directory-error": 5, "oon-ppo": 1}),
    ("urgent care wait times", {"urgent-find": 5, "er-vs-urgent": 2, "clinic-hours": 2}),
    ("stuck on connecting when working from home", {"it-vpn": 5}),
    ("got a weird email asking for my login", {"it-phishing": 5}),
    ("how much time off do i get when my baby is born (employee)", {"hr-parental": 5, "loa-leave": 2, "maternity": 0}),
    ("lost my job can i keep my insurance", {"cobra": 5, "cancel-plan": 1}),
    ("in network hospitals portland", {"region-hosp-portland": 5, "region-bh-portland": 1, "region-hosp-salem": 0, "region-hosp-seattle": 0}),
    ("therapist spokane", {"region-bh-spokane": 5, "mental-health": 3, "region-bh-seattle": 0, "region-hosp-spokane": 1}),
    ("tacoma urgent care", {"region-hosp-tacoma": 5, "region-hosp-seattle": 0, "urgent-find": 3}),
    ("Behavioral health in Bend", {"region-bh-bend": 5, "region-hosp-bend": 1, "region-bh-eugene": 0}),
    ("boise hospitals alder network", {"region-hosp-boise": 5, "region-bh-boise": 1, "region-hosp-spokane": 0}),
    ("ppo do i need a referral for specialist", {"pair-specialist-ppo": 5, "pcp-referral-hmo": 1, "pair-specialist-hmo": 0}),
    ("where should i get blood work done on the hmo", {"pair-labs-hmo": 5, "pair-labs-ppo": 0}),
    ("ppo out of network lab cost", {"pair-labs-ppo": 5, "pair-labs-hmo": 0, "oon-ppo": 3}),
    ("having a baby on hmo which hospital", {"pair-maternity-hmo": 5, "maternity": 3, "pair-maternity-ppo": 0}),
    ("planning surgery ppo steps", {"pair-surgery-ppo": 5, "pair-surgery-hmo": 0, "pa-check": 2}),
    ("switch doctors hmo", {"pair-changedoc-hmo": 5, "pcp-change": 4, "pair-changedoc-ppo": 0}),
    ("out of network therapist ppo reimbursement", {"pair-mentalhealth-ppo": 5, "claim-submit": 3, "pair-mentalhealth-hmo": 0, "mental-health": 2}),
    ("routine doctor visit while visiting family in another state ppo", {"pair-travel-ppo": 5, "ppo-national": 4, "oon-travel": 3, "pair-travel-hmo": 0}),
    ("moved out of hmo area", {"hmo-service-area": 5, "qle": 3, "address-change": 2}),
    ("gym reimbursement", {"gym": 5, "wellness-2025": 2}),
    ("flu shot free?", {"vaccines": 5, "preventive": 3, "clinic-hours": 1}),
    ("end of life care for my father at home", {"hospice": 5}),
    ("kidney transplant center is far away, help with hotel?", {"transplant": 5}),
    ("wegovy coverage for weight loss", {"glp1": 5, "formulary-2025": 2, "pa-list-2025": 2, "formulary-2026": 1}),
    ("pay my premium", {"premium-pay": 5, "cancel-plan": 1}),
    ("forgot to pay this month will i lose coverage", {"premium-pay": 5, "cancel-plan": 1}),
    ("second opinion cancer", {"second-opinion": 5}),
    ("let my son call about my claims", {"auth-rep": 5, "claim-appeal": 1}),
    ("copy of my records", {"hipaa-access": 5, "eob-copy": 1}),
    ("tuition reimbursement", {"hr-tuition": 5, "physasst-cme": 1}),
    ("staff health plan options for employees", {"hr-staff-plans": 5, "emp-hsa-2026": 2, "emp-oe-2026": 2, "compare-2026": 0}),
    ("how many days a week do i have to be in the office", {"hr-remote": 5}),
    ("free counseling for employees", {"hr-eap": 5, "mental-health": 0}),
    ("diabetes program free meter", {"diabetes-program": 5, "insulin-2025": 1}),
    ("talk to a nurse at 2am", {"nurse-line": 5}),
    ("need a spanish interpreter for my mom's appointment", {"interpreter": 5}),
]
for q, j in HANDQ:
    add_query(q, j)

# ---------------------------------------------------------------------------
# 7. Assign ids, split, write
# ---------------------------------------------------------------------------


def main() -> None:
    keys = sorted(DOCS)
    rng.shuffle(keys)
    doc_id = {k: f"doc-{i:04d}" for i, k in enumerate(keys, 1)}

    # validate judgments
    for text, j in QUERIES:
        for k in j:
            assert k in DOCS, (text, k)
        assert max(j.values()) >= 3, text

    order = list(range(len(QUERIES)))
    rng.shuffle(order)
    qid = {qi: f"q-{n:04d}" for n, qi in enumerate(order, 1)}
    n_test = round(len(order) * 0.30)
    test_set = set(order[:n_test])

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "qrels").mkdir(exist_ok=True)
    with open(OUT / "corpus.jsonl", "w", encoding="utf-8") as f:
        for k in sorted(keys, key=lambda k: doc_id[k]):
            d = DOCS[k]
            f.write(json.dumps({"_id": doc_id[k], "title": d["title"], "text": d["text"], "metadata": d["metadata"]},
                               ensure_ascii=False) + "\n")
    with open(OUT / "queries.jsonl", "w", encoding="utf-8") as f:
        for qi in sorted(order, key=lambda qi: qid[qi]):
            f.write(json.dumps({"_id": qid[qi], "text": QUERIES[qi][0]}, ensure_ascii=False) + "\n")
    hard = []
    for split, members in (("train", [q for q in order if q not in test_set]), ("test", [q for q in order if q in test_set])):
        with open(OUT / "qrels" / f"{split}.tsv", "w", encoding="utf-8") as f:
            f.write("query-id\tcorpus-id\tscore\n")
            for qi in sorted(members, key=lambda qi: qid[qi]):
                for k, g in sorted(QUERIES[qi][1].items(), key=lambda kv: (-kv[1], doc_id[kv[0]])):
                    f.write(f"{qid[qi]}\t{doc_id[k]}\t{g}\n")
                    if g == 0:
                        hard.append((qid[qi], doc_id[k]))
    with open(OUT / "hard_negatives.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\n")
        for a, b in sorted(hard):
            f.write(f"{a}\t{b}\n")

    n_j = sum(len(j) for _, j in QUERIES)
    stats = dict(docs=len(DOCS), queries=len(QUERIES), train=len(QUERIES) - n_test, test=n_test,
                 judgments=n_j, hard_negatives=len(hard))
    readme = f"""# Flywheel demo dataset: Alder Health help centre

This dataset is **synthetic**, generated by `data/build_demo.py` (seeded, standard library only) and written specifically
for Flywheel; it is not copied from any source. It models the internal help centre of *Alder Health*, a fictional
mid-size health insurer: plan summaries for Bronze/Silver/Gold/Platinum HMO and PPO plans across 2024-2026, member
how-to articles and FAQs, provider notes, and internal HR/IT/finance articles. It is hard for a generic embedding model
because the corpus is full of near-duplicates that differ only in the year, metal level or HMO/PPO network, documents
that share vocabulary but answer a different intent (submit vs appeal vs status of a claim; add vs remove a dependent;
member vs employee processes), and acronyms with colliding meanings (PA = prior authorization / physician assistant,
OOP = out-of-pocket / out-of-plan, EOB = explanation of benefits / end of business, COB = coordination of benefits /
close of business, ER = emergency room / Employee Relations, PCP = primary care provider / Purchasing Card Program,
DME = durable medical equipment / Data & Model Engineering, OT, PT, LOA, MA, SOB). Queries are typed like real users
(short keywords, typos, abbreviations such as '25). Relevance is graded 0-5; grade-0 judgments are look-alike hard
negatives and are also listed in `hard_negatives.tsv`.

Counts: {stats['docs']} documents, {stats['queries']} queries ({stats['train']} train / {stats['test']} test, disjoint),
{stats['judgments']} graded judgments, {stats['hard_negatives']} hard negatives.

Layout (BEIR): `corpus.jsonl`, `queries.jsonl`, `qrels/train.tsv`, `qrels/test.tsv`, `hard_negatives.tsv`.
"""
    (OUT / "README.md").write_text(readme, encoding="utf-8")
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
