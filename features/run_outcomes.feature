Feature: Every run says honestly what happened
  As an organization's admin
  I want each run to say whether everything went through, some things failed, or nothing could be done
  So that a failure never hides behind a run that looks fine

  Background:
    Given the organization uses the Procountor integration
    And today is 2025-03-14 in Finland
    And Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
    And Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |
    And a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 2        |

  Scenario: A run that transferred everything succeeds
    When the integration runs
    Then the run succeeds
    And an invoice is made for task 501

  Scenario: Tasks waiting for their data to be fixed do not make a run fail
    Given a completed task 502 without a customer, with:
      | product | quantity |
      | ASE-1   | 1        |
    When the integration runs
    Then the run succeeds
    And task 502 is held back because NO_CUSTOMER

  Scenario: A run in which Procountor refused one invoice says some items failed
    Given a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And task 502 has an order number of 71 characters
    When the integration runs
    Then the run ends with some items failed
    And an invoice is made for task 501
    And task 502 failed because REJECTED_BY_PROCOUNTOR

  Scenario: A run that cannot log in to Procountor fails and says what to do
    Given the organization's API key has been revoked in Procountor
    When the integration runs
    Then the run fails because Procountor refused the organization's credentials
    And the reason says to create a new API key in Procountor
    And Procountor has no invoices

  Scenario: A run that cannot reach Procountor fails and tries again next time
    Given Procountor is unreachable
    When the integration runs
    Then the run fails because Procountor does not answer
    When Procountor works normally again
    And the integration runs again
    Then the run succeeds
    And an invoice is made for task 501
