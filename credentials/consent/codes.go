package consent

// Code systems a consent grant draws its codes from, as FHIR R4 names them.
const (
	// SystemPurpose is the HL7 v3 ActReason code system; the PurposeOfUse
	// value set is drawn from it.
	SystemPurpose = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	// SystemAction is FHIR's consent action code system.
	SystemAction = "http://terminology.hl7.org/CodeSystem/consentaction"
	// SystemResourceType is FHIR's resource type code system: a grant's data
	// classes are resource type names.
	SystemResourceType = "http://hl7.org/fhir/resource-types"
	// SystemScope is FHIR's consent scope code system.
	SystemScope = "http://terminology.hl7.org/CodeSystem/consentscope"
	// SystemLOINC is LOINC; category 59284-0 is "Patient Consent".
	SystemLOINC = "http://loinc.org"
	// SystemParticipationType is the HL7 v3 ParticipationType code system
	// used for provision.actor.role.
	SystemParticipationType = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	// SystemActCode is the HL7 v3 ActCode code system (policyRule OPTIN).
	SystemActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	// SystemURI marks an identifier whose value is a URI: medid puts DIDs
	// in FHIR references this way.
	SystemURI = "urn:ietf:rfc:3986"
)

// Purposes of use with a fixed meaning for medid.
const (
	PurposeTreatment          = "TREAT"   // treatment
	PurposeEmergencyTreatment = "ETREAT"  // emergency treatment (break-glass)
	PurposeResearch           = "HRESCH"  // healthcare research
	PurposeCareManagement     = "CAREMGT" // care management
)

// purposes is the HL7 v3 PurposeOfUse value set (codes under ActReason's
// PurposeOfUse hierarchy, R4 / THO 2.x) that a grant may name.
var purposes = setOf(
	"HMARKT", "HOPERAT", "CAREMGT", "DONAT", "FRAUD", "GOV", "HACCRED", "HCOMPL",
	"HDECD", "HDIRECT", "HDM", "HLEGAL", "HOUTCOMS", "HPRGRP", "HQUALIMP", "HSYSADMIN",
	"LABELING", "METAMGT", "MEMADMIN", "MILCDM", "PATADMIN", "PATSFTY", "PERFMSR",
	"RECORDMGT", "SYSDEV", "HTEST", "TRAIN", "HPAYMT", "CLMATTCH", "COVAUTH", "COVERAGE",
	"ELIGDTRM", "ELIGVER", "ENROLLM", "MILDCRG", "REMITADV", "HRESCH", "BIORCH",
	"CLINTRCH", "CLINTRCHNPC", "CLINTRCHPC", "PRECLINTRCH", "DSRCH", "POARCH",
	"TRANSRCH", "PATRQT", "FAMRQT", "PWATRNY", "SUPNWK", "PUBHLTH", "DISASTER",
	"THREAT", "TREAT", "CLINTRL", "COC", "ETREAT", "BTG", "ERTREAT", "POPHLTH",
)

// Action is what a grant lets the provider do (FHIR consentaction codes).
type Action string

// The actions a grant may permit.
const (
	ActionAccess   Action = "access"   // read the data
	ActionCorrect  Action = "correct"  // amend the data
	ActionDisclose Action = "disclose" // pass the data on to a third party
)

var actions = setOf(string(ActionAccess), string(ActionCorrect), string(ActionDisclose))

// resourceTypes is the FHIR R4 (4.0.1) resource type list.
var resourceTypes = setOf(
	"Account", "ActivityDefinition", "AdverseEvent", "AllergyIntolerance", "Appointment",
	"AppointmentResponse", "AuditEvent", "Basic", "Binary", "BiologicallyDerivedProduct",
	"BodyStructure", "Bundle", "CapabilityStatement", "CarePlan", "CareTeam", "CatalogEntry",
	"ChargeItem", "ChargeItemDefinition", "Claim", "ClaimResponse", "ClinicalImpression",
	"CodeSystem", "Communication", "CommunicationRequest", "CompartmentDefinition",
	"Composition", "ConceptMap", "Condition", "Consent", "Contract", "Coverage",
	"CoverageEligibilityRequest", "CoverageEligibilityResponse", "DetectedIssue", "Device",
	"DeviceDefinition", "DeviceMetric", "DeviceRequest", "DeviceUseStatement",
	"DiagnosticReport", "DocumentManifest", "DocumentReference", "EffectEvidenceSynthesis",
	"Encounter", "Endpoint", "EnrollmentRequest", "EnrollmentResponse", "EpisodeOfCare",
	"EventDefinition", "Evidence", "EvidenceVariable", "ExampleScenario",
	"ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal", "GraphDefinition",
	"Group", "GuidanceResponse", "HealthcareService", "ImagingStudy", "Immunization",
	"ImmunizationEvaluation", "ImmunizationRecommendation", "ImplementationGuide",
	"InsurancePlan", "Invoice", "Library", "Linkage", "List", "Location", "Measure",
	"MeasureReport", "Media", "Medication", "MedicationAdministration",
	"MedicationDispense", "MedicationKnowledge", "MedicationRequest", "MedicationStatement",
	"MedicinalProduct", "MedicinalProductAuthorization", "MedicinalProductContraindication",
	"MedicinalProductIndication", "MedicinalProductIngredient", "MedicinalProductInteraction",
	"MedicinalProductManufactured", "MedicinalProductPackaged", "MedicinalProductPharmaceutical",
	"MedicinalProductUndesirableEffect", "MessageDefinition", "MessageHeader",
	"MolecularSequence", "NamingSystem", "NutritionOrder", "Observation",
	"ObservationDefinition", "OperationDefinition", "OperationOutcome", "Organization",
	"OrganizationAffiliation", "Parameters", "Patient", "PaymentNotice",
	"PaymentReconciliation", "Person", "PlanDefinition", "Practitioner", "PractitionerRole",
	"Procedure", "Provenance", "Questionnaire", "QuestionnaireResponse", "RelatedPerson",
	"RequestGroup", "ResearchDefinition", "ResearchElementDefinition", "ResearchStudy",
	"ResearchSubject", "RiskAssessment", "RiskEvidenceSynthesis", "Schedule",
	"SearchParameter", "ServiceRequest", "Slot", "Specimen", "SpecimenDefinition",
	"StructureDefinition", "StructureMap", "Subscription", "Substance",
	"SubstanceNucleicAcid", "SubstancePolymer", "SubstanceProtein",
	"SubstanceReferenceInformation", "SubstanceSourceMaterial", "SubstanceSpecification",
	"SupplyDelivery", "SupplyRequest", "Task", "TerminologyCapabilities", "TestReport",
	"TestScript", "ValueSet", "VerificationResult", "VisionPrescription",
)

// KnownPurpose reports whether code is a PurposeOfUse code a grant may name.
func KnownPurpose(code string) bool { return purposes[code] }

// KnownClass reports whether name is a FHIR R4 resource type.
func KnownClass(name string) bool { return resourceTypes[name] }

// KnownAction reports whether a is one of the actions a grant may permit.
func KnownAction(a Action) bool { return actions[string(a)] }

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}
