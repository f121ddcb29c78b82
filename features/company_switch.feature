Feature: An organization invoices into one Procountor company at a time
  As an organization's administrator
  I want the integration bound to the Procountor company our API key belongs to
  so that a key of another company never sends our work into the wrong books unnoticed, and a move to another
  company starts cleanly there

  Background:
    Given Procountor companies "Testiyritys Oy" and "Tuotanto Oy"
    And organization 1 has completed work to invoice
    And organization 1 has switched the integration on with the API key of "Testiyritys Oy"
    And the integration has run for organization 1

  Scenario: The integration remembers which company the organization invoices into
    Then organization 1 invoices into "Testiyritys Oy"
    And "Testiyritys Oy" has invoices of organization 1

  Scenario: The key of another company is refused unless the move is confirmed
    When organization 1 is switched on with the API key of "Tuotanto Oy"
    Then it is refused because the move to another company must be confirmed
    And organization 1 invoices into "Testiyritys Oy"

  Scenario: After a confirmed move, work goes only to the new company, to customers that exist there
    When organization 1 is switched on with the API key of "Tuotanto Oy", confirming the move
    And organization 1 completes more work
    And the integration runs for organization 1
    Then organization 1 invoices into "Tuotanto Oy"
    And "Tuotanto Oy" has invoices of organization 1, each for a customer of "Tuotanto Oy"
    And "Testiyritys Oy" heard nothing more from the integration after the move
    And what was transferred into "Testiyritys Oy" is kept as history

  Scenario: A company serves only one organization
    Given organization 2 has completed work to invoice
    When organization 2 is switched on with the API key of "Testiyritys Oy"
    Then it is refused because "Testiyritys Oy" already serves organization 1
    And organization 2 has not switched the integration on
